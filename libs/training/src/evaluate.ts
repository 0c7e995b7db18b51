/**
 * `gan-train eval`: loads a run's newest valid checkpoint, rebuilds the generator and scores it. For 2-D mixtures
 * it applies the VEEGAN protocol (2,500 samples).
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeGan, generate } from '@gan/model';
import { openDataset } from '@gan/data';
import { batchNoise, NOISE_STREAM } from './noise';
import { modeCoverage, type ModeCoverage } from './mode-coverage';
import { loadRun } from './load-run';
import type { Log } from './trainer';
import type { TrainConfig } from '@gan/config';
import type { Gan } from '@gan/model';
import { disposeClassifier, HELD_OUT, loadClassifier, scoreImages } from '@gan/metrics';

/**
 * Image runs on MNIST-like data: samples are judged by the project's MNIST classifier (`gan-train classifier`):
 * confident share, class histogram and the Fréchet distance of its penultimate features against real images
 * (the MNIST split's held-out tail, which the classifier never trained on).
 */
async function evaluateImages(gan: Gan, step: number, config: TrainConfig, opts: { samples?: number; seed?: number; classifier?: string; dataRoot?: string }): Promise<EvalResult> {
  if (!opts.classifier) throw new Error('eval of an image run needs --classifier FILE (train one with: gan-train classifier --data-root DIR --image-size ' + config.imageSize + ')');
  if (config.channels !== 1) throw new Error(`the MNIST classifier scores 1-channel images; this run makes ${config.channels}-channel ones`);
  const clf = await loadClassifier(opts.classifier);
  try {
    if (clf.arch.imageSize !== config.imageSize) {
      throw new Error(`classifier ${opts.classifier} was trained on ${clf.arch.imageSize} px images; this run makes ${config.imageSize} px (train one with --image-size ${config.imageSize})`);
    }
    const n = opts.samples ?? 2000;
    const generated = sampleMany(gan, n, config.nz, opts.seed ?? config.seed);
    const ds = await openDataset({ name: config.dataset, root: opts.dataRoot ?? config.dataRoot ?? undefined, imageSize: config.imageSize, channels: 1, seed: config.seed });
    const m = Math.min(HELD_OUT, ds.length);
    const idx = Array.from({ length: m }, (_, i) => ds.length - m + i);
    const real = new Float32Array(m * ds.sampleSize);
    await ds.read(idx, real);
    const s = scoreImages(clf, generated, real);
    return {
      step, dataset: config.dataset, samples: n, confident: s.confident, histogram: s.histogram,
      classes_covered: s.classesCovered, classifier_frechet: s.frechet,
    };
  } finally {
    disposeClassifier(clf);
  }
}

export interface EvalResult extends Partial<ModeCoverage> {
  step: number;
  dataset: string;
  samples: number;
  /** Image runs: share of samples the MNIST classifier labels with confidence > 0.9. */
  confident?: number;
  /** Image runs: generated samples per predicted digit class. */
  histogram?: number[];
  classes_covered?: number;
  /** Image runs: Fréchet distance of the classifier's penultimate features, real vs generated (not FID). */
  classifier_frechet?: number;
}

/** Draws n samples from G in batches (BatchNorm uses each batch's statistics, as in training). */
function sampleMany(gan: Gan, n: number, nz: number, seed: number, batch = 64): Float32Array {
  const parts: Float32Array[] = [];
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    const z = tf.tensor2d(batchNoise(seed, 0, i, b, nz, NOISE_STREAM.eval), [b, nz]);
    try {
      parts.push(generate(gan, z));
    } finally {
      z.dispose();
    }
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export async function evaluateRun(runDir: string, logger: Log, opts: { samples?: number; seed?: number; classifier?: string; dataRoot?: string } = {}): Promise<EvalResult> {
  const { st, config } = await loadRun(runDir, logger);
  const { gan } = st;
  try {
    if (config.model !== 'mlp') return await evaluateImages(gan, st.step, config, opts);
    const ds = await openDataset({ name: config.dataset, imageSize: config.imageSize, channels: config.channels, seed: config.seed });
    if (!ds.modes || !ds.modeStd) throw new Error(`dataset '${config.dataset}' has no mode centres to score against`);
    const n = opts.samples ?? 2500;
    const z = tf.tensor2d(batchNoise(opts.seed ?? config.seed, 0, 0, n, config.nz, NOISE_STREAM.eval), [n, config.nz]);
    let x: Float32Array;
    try {
      x = generate(gan, z);
    } finally {
      z.dispose();
    }
    return { step: st.step, dataset: config.dataset, samples: n, ...modeCoverage(x, ds.modes, ds.modeStd) };
  } finally {
    disposeGan(gan);
  }
}
