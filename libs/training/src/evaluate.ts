/**
 * `gan-train eval`: loads a run's newest valid checkpoint, rebuilds the generator and scores it. For 2-D mixtures
 * it applies the VEEGAN protocol (2,500 samples); for image runs it computes the Fréchet distance and the
 * Inception-Score formula over a feature extractor, each beside its real-vs-real floor (@gan/metrics
 * featureScores), plus the class histogram and confident share when the extractor is one of our classifiers.
 * Not a runnable file; exercised by test/ (the CLI) and libs/api.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeGan, generateAsync } from '@gan/model';
import { openDataset } from '@gan/data';
import { batchNoise, NOISE_STREAM } from './noise';
import { modeCoverage, type ModeCoverage } from './mode-coverage';
import { loadRun } from './load-run';
import type { Log } from './trainer';
import type { TrainConfig } from '@gan/config';
import type { Gan } from '@gan/model';
import {
  classifierExtractor, CONFIDENCE_THRESHOLD, disposeClassifier, featureScores, HELD_OUT, loadClassifier, loadModelExtractor,
  type Classifier, type FeatureExtractor, type NamedScore,
} from '@gan/metrics';

export interface EvalOptions {
  /** Generated samples (default 2500 for 2-D data, 2000 for images). */
  samples?: number;
  seed?: number;
  /** Our classifier (.safetensors from `gan-train classifier`): MNIST-family or shapes runs. */
  classifier?: string;
  dataRoot?: string;
  /** A TF.js graph or layers model (model.json or its folder) to take features (and logits) from instead. */
  features?: string;
  featuresNode?: string;
  logitsNode?: string;
  /** Input side of the features model (default: from its input shape). */
  featuresSize?: number;
  /** Pixel range the features model expects (default [-1, 1]). */
  featuresRange?: readonly [number, number];
  /** Whose features, for the score names (default: the model's folder name; 'inception-v3' gives FID / IS). */
  featuresName?: string;
}

const MNIST_FAMILY = ['mnist', 'fashion-mnist', 'kmnist'];

/** The extractor an image run is scored with, and our classifier when it is one (for histogram / confident). */
async function chooseExtractor(config: TrainConfig, opts: EvalOptions): Promise<{ ex: FeatureExtractor; clf?: Classifier }> {
  if (opts.features) {
    const ex = await loadModelExtractor(opts.features, {
      featuresNode: opts.featuresNode, logitsNode: opts.logitsNode, inputSize: opts.featuresSize, inputRange: opts.featuresRange, name: opts.featuresName,
    });
    return { ex };
  }
  if (!opts.classifier) {
    const S = config.imageSize;
    if (config.dataset === 'shapes') throw new Error(`eval of a shapes run needs --classifier FILE (train one with: gan-train classifier --dataset shapes --image-size ${S} --channels ${config.channels}) or --features MODEL`);
    if (MNIST_FAMILY.includes(config.dataset)) throw new Error(`eval of an image run needs --classifier FILE (train one with: gan-train classifier --data-root DIR --image-size ${S}) or --features MODEL`);
    throw new Error(`eval of a ${config.dataset} run needs --features MODEL (a TF.js model.json, e.g. Inception-v3 converted with tensorflowjs_converter)`);
  }
  const clf = await loadClassifier(opts.classifier);
  try {
    const S = config.imageSize;
    const retrain = clf.task === 'shapes' ? `gan-train classifier --dataset shapes --image-size ${S} --channels ${config.channels}` : `gan-train classifier --data-root DIR --image-size ${S}`;
    if ((clf.task === 'shapes') !== (config.dataset === 'shapes')) {
      throw new Error(`classifier ${opts.classifier} is a ${clf.task} classifier; this run is on ${config.dataset} (${config.dataset === 'shapes' ? 'train one with: gan-train classifier --dataset shapes' : 'use an MNIST classifier or --features MODEL'})`);
    }
    if (clf.arch.channels !== config.channels) {
      throw new Error(`classifier ${opts.classifier} reads ${clf.arch.channels}-channel images; this run makes ${config.channels}-channel ones (train one with: ${retrain})`);
    }
    if (clf.arch.imageSize !== S) {
      throw new Error(`classifier ${opts.classifier} was trained on ${clf.arch.imageSize} px images; this run makes ${S} px (train one with: ${retrain})`);
    }
    return { ex: classifierExtractor(clf), clf };
  } catch (e) {
    disposeClassifier(clf);
    throw e;
  }
}

/**
 * Image runs: n generated images against real set A (the dataset's last m ≤ 2,000 images: the MNIST classifier's
 * held-out tail, never trained on) and, for the floors, real set B (the n images before A; for the MNIST
 * classifier these are among its training images). Any dataset, any size: features models resize.
 */
async function evaluateImages(gan: Gan, step: number, config: TrainConfig, opts: EvalOptions): Promise<EvalResult> {
  const { ex, clf } = await chooseExtractor(config, opts);
  try {
    const n = opts.samples ?? 2000;
    const ds = await openDataset({ name: config.dataset, root: opts.dataRoot ?? config.dataRoot ?? undefined, imageSize: config.imageSize, channels: config.channels, seed: config.seed });
    const m = Math.min(HELD_OUT, ds.length - n);
    if (m < 2) throw new Error(`the ${config.dataset} data holds ${ds.length} images; scoring ${n} samples with a real-vs-real floor needs at least ${n + 2} (use a smaller --samples)`);
    const read = async (from: number, count: number) => {
      const x = new Float32Array(count * ds.sampleSize);
      await ds.read(Array.from({ length: count }, (_, i) => from + i), x);
      return x;
    };
    const realA = await read(ds.length - m, m);
    const realB = await read(ds.length - m - n, n);
    const generated = await sampleMany(gan, n, config.nz, opts.seed ?? config.seed);
    const s = await featureScores(ex, { generated, realA, realB }, { size: config.imageSize, channels: config.channels });
    const out: EvalResult = { step, dataset: config.dataset, samples: n, real: m, features: s.features, scores: s.is ? [s.fd, s.is] : [s.fd] };
    if (clf && s.probs) {
      const K = clf.arch.classes;
      const histogram = new Array<number>(K).fill(0);
      let confident = 0;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let k = 1; k < K; k++) if (s.probs[i * K + k] > s.probs[i * K + best]) best = k;
        histogram[best]++;
        if (s.probs[i * K + best] > CONFIDENCE_THRESHOLD) confident++;
      }
      Object.assign(out, { confident: confident / n, histogram, classes_covered: histogram.filter((c) => c > 0).length, classifier_frechet: s.fd.value });
    }
    return out;
  } finally {
    if (clf) disposeClassifier(clf);
    else ex.dispose();
  }
}

export interface EvalResult extends Partial<ModeCoverage> {
  step: number;
  dataset: string;
  samples: number;
  /** Image runs: real images in the reference set (the floor's second real set has `samples`). */
  real?: number;
  /** Image runs: whose features the scores use ('mnist-classifier', 'shapes-classifier', a model's name). */
  features?: string;
  /** Image runs: FD (and IS when the extractor has classes), each with its real-vs-real floor. */
  scores?: NamedScore[];
  /** Our classifiers: share of samples labelled with confidence > 0.9. */
  confident?: number;
  /** Our classifiers: generated samples per predicted class (digits 0-9; circle, square, triangle). */
  histogram?: number[];
  classes_covered?: number;
  /** Our classifiers: the FD of `scores` (classifier penultimate features, real vs generated; not FID). */
  classifier_frechet?: number;
}

/** The human-readable lines of `gan-train eval` (without --json): one `key: value` per line, a score per line. */
export function formatEvalResult(r: EvalResult): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(r)) {
    if (k === 'scores') continue;
    lines.push(`${k}: ${Array.isArray(v) ? v.join(',') : v}`);
  }
  for (const s of r.scores ?? []) {
    lines.push(`${s.name}: ${fmt(s.value)} (real vs real: ${fmt(s.real_vs_real)}; ${s.better} is better)`);
  }
  return lines.join('\n') + '\n';
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));

/**
 * Draws n samples from G in batches (BatchNorm uses each batch's statistics, as in training). Reads asynchronously,
 * as every read on the eval path does, so eval runs on webgpu too (which cannot read synchronously under Node).
 */
async function sampleMany(gan: Gan, n: number, nz: number, seed: number, batch = 64): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let i = 0; i < n; i += batch) {
    const b = Math.min(batch, n - i);
    const z = tf.tensor2d(batchNoise(seed, 0, i, b, nz, NOISE_STREAM.eval), [b, nz]);
    try {
      parts.push(await generateAsync(gan, z));
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

export async function evaluateRun(runDir: string, logger: Log, opts: EvalOptions = {}): Promise<EvalResult> {
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
      x = await generateAsync(gan, z);
    } finally {
      z.dispose();
    }
    return { step: st.step, dataset: config.dataset, samples: n, ...modeCoverage(x, ds.modes, ds.modeStd) };
  } finally {
    disposeGan(gan);
  }
}
