/**
 * trainShapesClassifier: trains the CNN of ./classifier to tell the `shapes` dataset's circles, squares and
 * triangles apart (the labels @gan/data's shapes generator records for every image), at the run's image size and
 * channels, and saves it with task 'shapes' for `gan-train eval`'s shapes-classifier FD / IS.
 *
 * The images come from the shapes generator with a data seed derived from `seed` through its own salt, so they are
 * never the images of a run (a run's shapes use the run's seed directly); the held-out images are further indices
 * of the same stream, never trained on. Being generated, the data is unlimited and needs no files.
 *
 * Measured on the shared 2-core box (wasm, 1 thread; CPU seconds, as the box ran at load average 10-15 from other
 * jobs, which tripled wall times): defaults (16/32/64 widths, max head, 4,000 images, 4 epochs), 64 px × 3 channels
 * (2× downsample): held-out 0.992 at batch 32 in 29 s CPU, 0.988 at batch 64 (`gan-train classifier`'s default);
 * 32 px × 3 channels, 3,000 images (the test): 0.994, 23 s CPU. The flatten head reached 0.73-0.93 in the same time.
 * Tests: node tools/run-tests.mjs libs/metrics shapes-classifier
 */
import { hashSeed, openDataset } from '@gan/data';
import { createClassifier, disposeClassifier, type ClassifierArch, type MetricsLogger } from './classifier';
import { fitAndSave } from './train-classifier';

/**
 * Layer widths for shapes: three easy classes need far less than the MNIST defaults (32/64/128). The global max
 * head makes the features position-independent (see ./classifier).
 */
export const SHAPES_ARCH = { conv1: 16, conv2: 32, hidden: 64, head: 'max' } as const;

/** Input downsample so the convs run at ≤ 32 px: 99.9 % accuracy there, at a quarter of 64 px's cost. */
export function shapesDownsample(imageSize: number): number {
  let d = 1;
  while (imageSize / d > 32 && imageSize % (8 * d) === 0) d *= 2;
  return d;
}
const DATA_SALT = 0x5a7e;

export interface TrainShapesClassifierOptions {
  /** Image side (a multiple of 4, ≥ 8), the run's --image-size (default 64). */
  imageSize?: number;
  /** 1 or 3, the run's --channels (default 3). */
  channels?: 1 | 3;
  /** Training images (default 3,000). */
  trainCount?: number;
  /** Held-out images for the reported accuracy (default 1,000). */
  heldOutCount?: number;
  epochs?: number;
  batchSize?: number;
  seed: number;
  /** Adam learning rate (default 2e-3). */
  lr?: number;
  /** Layer widths (default SHAPES_ARCH). */
  arch?: Partial<Pick<ClassifierArch, 'conv1' | 'conv2' | 'hidden' | 'head' | 'downsample'>>;
  /** Output .safetensors path (written atomically; its folder must exist). */
  out: string;
  logger?: MetricsLogger;
}

export interface TrainShapesClassifierResult {
  trainAccuracy: number;
  heldOutAccuracy: number;
  path: string;
  trainCount: number;
  heldOutCount: number;
  seconds: number;
}

export async function trainShapesClassifier(opts: TrainShapesClassifierOptions): Promise<TrainShapesClassifierResult> {
  const t0 = Date.now();
  const imageSize = opts.imageSize ?? 64;
  const channels = opts.channels ?? 3;
  const trainCount = opts.trainCount ?? 4000;
  const heldOutCount = opts.heldOutCount ?? 1000;
  const epochs = opts.epochs ?? 4;
  const batchSize = opts.batchSize ?? 32;
  if (!opts.out || !opts.out.endsWith('.safetensors')) throw new Error(`trainShapesClassifier: out must be a .safetensors path, got '${opts.out}'`);
  for (const [k, v] of Object.entries({ trainCount, heldOutCount })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`trainShapesClassifier: ${k} must be a positive integer, got ${v}`);
  }
  const arch = { ...SHAPES_ARCH, downsample: shapesDownsample(imageSize), ...opts.arch, imageSize, channels, classes: 3 };
  // createClassifier checks imageSize / widths; do it before rendering thousands of images.
  const c = createClassifier(arch, opts.seed, 'shapes');
  try {
    const dataSeed = hashSeed(opts.seed, DATA_SALT);
    const ds = await openDataset({ name: 'shapes', seed: dataSeed, imageSize, channels, length: trainCount + heldOutCount });
    const per = ds.sampleSize;
    const all = new Float32Array(ds.length * per);
    await ds.read(Array.from({ length: ds.length }, (_, i) => i), all);
    const trainX = all.subarray(0, trainCount * per);
    const trainY = ds.labels!.subarray(0, trainCount);
    const heldX = all.subarray(trainCount * per);
    const heldY = ds.labels!.subarray(trainCount);
    opts.logger?.info({ ...arch, trainCount, heldOutCount, epochs, batchSize }, `training the shapes classifier on ${trainCount} images`);
    const { trainAccuracy, heldOutAccuracy, out } = await fitAndSave(c, { trainX, trainY, heldX, heldY }, {
      epochs, batchSize, seed: opts.seed, lr: opts.lr ?? 2e-3, logger: opts.logger,
    }, opts.out, {
      dataset: 'shapes',
      dataSeed,
      trainImages: `0-${trainCount - 1}`,
      heldOutImages: `${trainCount}-${trainCount + heldOutCount - 1}`,
      classNames: 'circle,square,triangle',
      epochs,
      batchSize,
      seed: opts.seed,
    });
    const seconds = (Date.now() - t0) / 1000;
    opts.logger?.info({ trainAccuracy, heldOutAccuracy, path: out, seconds }, `shapes classifier saved to ${out}: held-out accuracy ${heldOutAccuracy.toFixed(4)}`);
    return { trainAccuracy, heldOutAccuracy, path: out, trainCount, heldOutCount, seconds };
  } finally {
    disposeClassifier(c);
  }
}
