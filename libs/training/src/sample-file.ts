/**
 * G's samples as a picture file: an image grid for image models, a scatter plot (with the data's modes) for 2-D
 * ones. What the trainer writes as fake_samples_step_NNNNNN.png and what `gan-train sample` writes, so the two agree
 * bit for bit for the same weights and noise. Not a runnable file.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '@gan/config';
import { generateAsync, type Gan } from '@gan/model';
import { writeImageGrid, writeScatterPlot } from '@gan/telemetry';
import { batchNoise, NOISE_STREAM } from './noise';

/** How many samples a picture shows by default: an 8×8 grid, or the VEEGAN protocol's 2,500 points. */
export function defaultSampleCount(config: TrainConfig): number {
  return config.model === 'mlp' ? 2500 : 64;
}

/**
 * The noise of the run's sample pictures: the fixed rows the trainer draws every grid from (`seed` null), or rows
 * from another seed. [n · nz], row-major.
 */
export function sampleNoiseFor(config: TrainConfig, n: number, seed: number | null): Float32Array {
  return seed === null
    ? batchNoise(config.seed, 0, 0, n, config.nz, NOISE_STREAM.fixedSamples)
    : batchNoise(seed, 0, 0, n, config.nz, NOISE_STREAM.eval);
}

/**
 * Generates G(z) for z [n · nz] (one batch: BatchNorm uses these samples' statistics, as the trainer's grids do)
 * and writes it to `file` (PNG). `modes`: the 2-D data's mode centres [x0, y0, x1, …], drawn in the scatter plot.
 */
export async function writeSampleFile(gan: Gan, config: TrainConfig, z: Float32Array, n: number, file: string, modes?: Float32Array): Promise<void> {
  const zt = tf.tensor2d(z, [n, config.nz]);
  try {
    const x = await generateAsync(gan, zt);
    if (config.model === 'mlp') writeScatterPlot(file, x, { modes });
    else writeImageGrid(file, x, { n, h: config.imageSize, w: config.imageSize, c: config.channels });
  } finally {
    zt.dispose();
  }
}
