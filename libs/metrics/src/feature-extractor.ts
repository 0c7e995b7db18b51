/**
 * FeatureExtractor: what the Fréchet distance and the Inception-Score formula of `gan-train eval` run on — a network
 * that maps images to penultimate features (and, when it has them, class probabilities). Our own classifiers
 * (./classifier: the MNIST and shapes CNNs) and a user's TF.js graph or layers model (./tfjs-model-extractor) are
 * both adapted to it, so the scores are computed one way whoever's features they are.
 *
 * extractFeatures brings a run's images to what the extractor reads: bilinear resize with half-pixel centres (as
 * PyTorch's F.interpolate(align_corners=False), which pytorch-fid uses) when the sides differ, a 1-channel image
 * repeated to 3 channels, and [-1, 1] mapped linearly onto the extractor's input range.
 * Not a runnable file; tests: node tools/run-tests.mjs libs/metrics feature
 */
import * as tf from '@tensorflow/tfjs-core';
import { forward, type Classifier } from './classifier';

export interface FeatureExtractor {
  /** Whose features these are; names the scores ("shapes-classifier FD", "my-model IS"). */
  name: string;
  /** Side of the square images it reads. */
  inputSize: number;
  /** Channels it reads. */
  channels: 1 | 3;
  /** Pixel range it expects ([-1, 1] is the runs' own). */
  inputRange: readonly [number, number];
  /** Feature dimension d. */
  featureDim: number;
  /** Classes k of its probabilities, or 0 when it gives none (no Inception-Score formula then). */
  classes: number;
  /**
   * One batch [b, inputSize, inputSize, channels], already resized and scaled. Returns new tensors the caller
   * disposes: features [b, d] and probabilities [b, k] (null when classes is 0).
   */
  run(x: tf.Tensor4D): Promise<{ features: tf.Tensor2D; probs: tf.Tensor2D | null }>;
  /** Releases the model (not called by extractFeatures). */
  dispose(): void;
}

/** One of our classifiers as an extractor: features = its fc1 activations, probabilities = softmax of its logits. */
export function classifierExtractor(c: Classifier): FeatureExtractor {
  return {
    name: `${c.task}-classifier`,
    inputSize: c.arch.imageSize,
    channels: c.arch.channels,
    inputRange: [-1, 1],
    featureDim: c.arch.hidden,
    classes: c.arch.classes,
    run: async (x) =>
      tf.tidy(() => {
        const out = forward(c, x);
        return { features: out.features, probs: tf.softmax(out.logits) as tf.Tensor2D };
      }),
    dispose: () => undefined,
  };
}

export interface ExtractedFeatures {
  n: number;
  /** [n, d] row-major. */
  features: Float32Array;
  /** [n, k] row-major, or null when the extractor gives no probabilities. */
  probs: Float32Array | null;
}

/**
 * Runs the extractor over `images` ([n, size, size, channels] in [-1, 1]) in batches.
 * @throws Error (one line) when the array is not a whole number of such images, or when the extractor reads
 *   1-channel images and these have 3 (no silent colour-to-grey conversion)
 */
export async function extractFeatures(
  ex: FeatureExtractor,
  images: Float32Array,
  shape: { size: number; channels: number },
  opts: { batchSize?: number; what?: string } = {},
): Promise<ExtractedFeatures> {
  const { size, channels } = shape;
  const what = opts.what ?? 'images';
  const per = size * size * channels;
  if (images.length === 0 || images.length % per !== 0) throw new Error(`${ex.name}: ${what}: ${images.length} values is not a whole number of ${size}×${size}×${channels} images`);
  if (channels !== ex.channels && !(channels === 1 && ex.channels === 3)) {
    throw new Error(`${ex.name} reads ${ex.channels}-channel images; these ${what} have ${channels} channels`);
  }
  const n = images.length / per;
  const bs = opts.batchSize ?? 64;
  const features = new Float32Array(n * ex.featureDim);
  const probs = ex.classes > 0 ? new Float32Array(n * ex.classes) : null;
  const [lo, hi] = ex.inputRange;
  for (let start = 0; start < n; start += bs) {
    const b = Math.min(bs, n - start);
    const x = tf.tidy(() => {
      let t = tf.tensor4d(images.subarray(start * per, (start + b) * per), [b, size, size, channels]);
      if (size !== ex.inputSize) t = tf.image.resizeBilinear(t, [ex.inputSize, ex.inputSize], false, true);
      if (channels !== ex.channels) t = tf.tile(t, [1, 1, 1, ex.channels]);
      if (lo !== -1 || hi !== 1) t = tf.add(tf.mul(tf.add(t, 1), (hi - lo) / 2), lo);
      return t;
    });
    let out;
    try {
      out = await ex.run(x);
    } finally {
      x.dispose();
    }
    try {
      // Asynchronous reads: eval must work on webgpu, which cannot read synchronously under Node.
      features.set((await out.features.data()) as Float32Array, start * ex.featureDim);
      if (probs && out.probs) probs.set((await out.probs.data()) as Float32Array, start * ex.classes);
    } finally {
      tf.dispose([out.features, ...(out.probs ? [out.probs] : [])]);
    }
  }
  return { n, features, probs };
}
