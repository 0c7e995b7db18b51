/**
 * `gan-train eval`: loads a run's newest valid checkpoint, rebuilds the generator and scores it. For 2-D mixtures
 * it applies the VEEGAN protocol (2,500 samples).
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildGan, disposeGan, generate } from '@gan/model';
import { openDataset } from '@gan/data';
import { CheckpointManager } from '@gan/checkpoint';
import path from 'node:path';
import fs from 'node:fs';
import { batchNoise, NOISE_STREAM } from './noise';
import { modeCoverage, type ModeCoverage } from './mode-coverage';
import { checkpointConfig, modelConfigOf, restoreState, type LoadedCheckpoint, type TrainState } from './run-state';
import { createAdam } from '@gan/model';
import type { Log } from './trainer';

export interface EvalResult extends Partial<ModeCoverage> {
  step: number;
  dataset: string;
  samples: number;
}

export async function evaluateRun(runDir: string, logger: Log, opts: { samples?: number; seed?: number } = {}): Promise<EvalResult> {
  const dir = path.resolve(runDir);
  if (!fs.existsSync(dir)) throw new Error(`run directory ${runDir} does not exist`);
  const ckDir = fs.existsSync(path.join(dir, 'checkpoints')) ? path.join(dir, 'checkpoints') : dir;
  const mgr = new CheckpointManager(ckDir, { keep: 1_000_000, logger });
  const ckpt = (await mgr.load(ckDir)) as unknown as LoadedCheckpoint;
  const where = `checkpoint ${ckpt.path ?? ckDir}`;
  const config = checkpointConfig(ckpt, where);
  const gan = buildGan(modelConfigOf(config), config.seed);
  const st: TrainState = { gan, adamG: createAdam(gan.g, {}), adamD: createAdam(gan.d, {}), step: 0 };
  try {
    restoreState(st, ckpt, where);
    if (config.model !== 'mlp') {
      throw new Error(`eval of image runs needs the MNIST classifier metrics, not available yet for dataset '${config.dataset}'`);
    }
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
