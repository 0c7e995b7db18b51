/**
 * The small CNN whose outputs score generated images (the MNIST digit classifier, and the same network trained on
 * the generated `shapes` with 3 channels and 3 classes): raw @tensorflow/tfjs-core ops on tf.variables, NHWC.
 *
 *   x [B, S, S, C] in [-1, 1]   (C = 1 for MNIST, 1 or 3 for shapes)
 *   → average pool D×D when downsample D > 1 (large shapes images: the convs then run at S/D px, 4-16× cheaper)
 *   → conv1 3×3 (same) C1 + bias → ReLU → maxpool 2×2 → [B, S/2, S/2, C1]
 *   → conv2 3×3 (same) C2 + bias → ReLU → maxpool 2×2 → [B, S'/4, S'/4, C2]   (S' = S/D)
 *   → head 'flatten': (h, w, c order) [B, (S'/4)²·C2]  |  head 'max': global max over positions [B, C2]
 *   → fc1 [that, H] + bias → ReLU → features [B, H]   (the penultimate layer: Fréchet statistics use these)
 *   → fc2 [H, K] + bias → logits [B, K] → softmax   (K = 10 digits, or 3 shape classes)
 *
 * Defaults C1 = 32, C2 = 64, H = 128, head 'flatten', D = 1 (S = 28 or 32; any multiple of 4·D works, which the tests
 * use with tiny shapes). The shapes classifier uses the 'max' head: "is there a corner of this kind anywhere" is
 * what tells a square from a triangle wherever it sits, and with it training reached 99.9 % held-out accuracy in
 * 5 epochs at 32 px where the flatten head was still at 55-92 %.
 * Weights are saved as safetensors, names and layouts:
 *   conv1.weight [3,3,C,C1], conv1.bias [C1], conv2.weight [3,3,C1,C2], conv2.bias [C2],
 *   fc1.weight [(S'/4)²·C2 or C2, H], fc1.bias [H], fc2.weight [H, K], fc2.bias [K]
 * with metadata format = CLASSIFIER_FORMAT, architecture = CLASSIFIER_ARCH_VERSION, imageSize, channels, conv1,
 * conv2, hidden, classes, head, downsample, task (what it classifies: 'mnist' or 'shapes') and whatever the trainer adds (accuracies,
 * seed, resize mode). Files of the previous version ('mnist-cnn-v1': none of channels, head, downsample or task;
 * always 1 channel, 10 digit classes, flatten head, D = 1) load as MNIST classifiers; the weights mean the same.
 * The backend is the caller's choice (@gan/backend initBackend) before any of this runs. Not a runnable file;
 * tests: node tools/run-tests.mjs libs/metrics classifier
 */
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from '@gan/backend';
import { CheckpointError, readSafetensors, writeSafetensors, type NamedTensor } from '@gan/checkpoint';
import { Rng, hashSeed, permutation } from '@gan/data';

/** Bumped whenever the layer structure or the meaning of a weight changes; loadClassifier refuses other values. */
export const CLASSIFIER_ARCH_VERSION = 'image-cnn-v2';
/** The previous version: the same network fixed at 1 channel and 10 classes, without channels/task metadata. */
const ARCH_V1 = 'mnist-cnn-v1';
/** Marks our classifier files apart from GAN checkpoints (which are safetensors too). */
export const CLASSIFIER_FORMAT = 'gan-metrics-classifier';
/** Classes of the MNIST classifier (the default); a shapes classifier has 3. */
export const NUM_CLASSES = 10;
/** What a classifier was trained to tell apart; names its scores ("shapes-classifier FD"). */
export type ClassifierTask = 'mnist' | 'shapes';
export const CLASSIFIER_TASKS: readonly ClassifierTask[] = ['mnist', 'shapes'];

export interface ClassifierArch {
  /** Side S of the square input images (multiple of 4). */
  imageSize: number;
  /** Input channels C (1 or 3). */
  channels: 1 | 3;
  /** Output classes K (2-1000). */
  classes: number;
  /** How conv2's map reaches fc1: flattened (position-specific, MNIST) or a global max per channel (shapes). */
  head: 'flatten' | 'max';
  /** Average-pool factor D applied to the input first (1 = none). */
  downsample: number;
  /** Output channels of the first conv. */
  conv1: number;
  /** Output channels of the second conv. */
  conv2: number;
  /** Width of the penultimate (feature) layer. */
  hidden: number;
}

export const DEFAULT_ARCH: Omit<ClassifierArch, 'imageSize'> = { channels: 1, classes: NUM_CLASSES, head: 'flatten', downsample: 1, conv1: 32, conv2: 64, hidden: 128 };

const WEIGHT_NAMES = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'] as const;
type WeightName = (typeof WEIGHT_NAMES)[number];

export interface Classifier {
  arch: ClassifierArch;
  /** Trainable variables by safetensors name. */
  weights: Record<WeightName, tf.Variable>;
  /** Metadata it was saved or loaded with (string → string), e.g. heldOutAccuracy. */
  metadata: Record<string, string>;
  /** What it classifies (default 'mnist'). */
  task: ClassifierTask;
}

/** pino-compatible subset. */
export interface MetricsLogger {
  info(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

function shapesOf(a: ClassifierArch): Record<WeightName, number[]> {
  const flat = a.head === 'max' ? a.conv2 : (a.imageSize / a.downsample / 4) ** 2 * a.conv2;
  return {
    'conv1.weight': [3, 3, a.channels, a.conv1],
    'conv1.bias': [a.conv1],
    'conv2.weight': [3, 3, a.conv1, a.conv2],
    'conv2.bias': [a.conv2],
    'fc1.weight': [flat, a.hidden],
    'fc1.bias': [a.hidden],
    'fc2.weight': [a.hidden, a.classes],
    'fc2.bias': [a.classes],
  };
}

function validateArch(a: ClassifierArch): void {
  if (!Number.isInteger(a.downsample) || a.downsample < 1 || a.downsample > 64) throw new Error(`classifier: downsample must be an integer in [1, 64], got ${a.downsample}`);
  const unit = 4 * a.downsample;
  if (!Number.isInteger(a.imageSize) || a.imageSize < unit || a.imageSize % unit !== 0) {
    throw new Error(`classifier: imageSize must be a positive multiple of ${unit} (two 2×2 pools${a.downsample > 1 ? ` after a ${a.downsample}× downsample` : ''}), got ${a.imageSize}`);
  }
  if (a.head !== 'flatten' && a.head !== 'max') throw new Error(`classifier: head must be 'flatten' or 'max', got ${JSON.stringify(a.head)}`);
  if (a.channels !== 1 && a.channels !== 3) throw new Error(`classifier: channels must be 1 or 3, got ${a.channels}`);
  if (!Number.isInteger(a.classes) || a.classes < 2 || a.classes > 1000) throw new Error(`classifier: classes must be an integer in [2, 1000], got ${a.classes}`);
  for (const k of ['conv1', 'conv2', 'hidden'] as const) {
    if (!Number.isInteger(a[k]) || a[k] < 1 || a[k] > 4096) throw new Error(`classifier: ${k} must be an integer in [1, 4096], got ${a[k]}`);
  }
}

/**
 * A freshly initialised classifier: normal weights from a seeded stream (deterministic in arch and seed), zero
 * biases.
 */
export function createClassifier(arch: Partial<ClassifierArch> & { imageSize: number }, seed: number, task: ClassifierTask = 'mnist'): Classifier {
  const a: ClassifierArch = { ...DEFAULT_ARCH, ...arch };
  validateArch(a);
  const shapes = shapesOf(a);
  const weights = {} as Record<WeightName, tf.Variable>;
  WEIGHT_NAMES.forEach((name, i) => {
    const shape = shapes[name];
    const size = shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(size);
    if (name.endsWith('.weight')) {
      const fanIn = shape.slice(0, -1).reduce((x, y) => x * y, 1);
      // He for layers followed by ReLU; LeCun (1/fanIn) for the logits layer, so initial logits stay O(1).
      const std = Math.sqrt((name === 'fc2.weight' ? 1 : 2) / fanIn);
      const rng = new Rng(hashSeed(seed, i, 0xc1a5));
      for (let k = 0; k < size; k++) data[k] = rng.normal() * std;
    }
    // tidy releases the initial tensor; the variable keeps its own reference to the data.
    weights[name] = tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), true, `gan-metrics/${name}/${nextId++}`));
  });
  return { arch: a, weights, metadata: {}, task };
}

// Variable names must be unique per tfjs engine; several classifiers may live in one process (tests, eval).
let nextId = 0;

/** Releases the classifier's variables. */
export function disposeClassifier(c: Classifier): void {
  for (const name of WEIGHT_NAMES) c.weights[name].dispose();
}

/**
 * Forward pass (call inside tf.tidy).
 * @param x [B, S, S, C]
 * @returns logits [B, K] and features [B, hidden] (post-ReLU penultimate activations)
 */
export function forward(c: Classifier, x: tf.Tensor4D): { logits: tf.Tensor2D; features: tf.Tensor2D } {
  const w = c.weights;
  const d = c.arch.downsample;
  const x0 = d > 1 ? (tf.avgPool(x, d, d, 'valid') as tf.Tensor4D) : x;
  let h = tf.relu(tf.add(tf.conv2d(x0, w['conv1.weight'] as tf.Tensor4D, 1, 'same'), w['conv1.bias'])) as tf.Tensor4D;
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.relu(tf.add(tf.conv2d(h, w['conv2.weight'] as tf.Tensor4D, 1, 'same'), w['conv2.bias'])) as tf.Tensor4D;
  h = tf.maxPool(h, 2, 2, 'valid');
  const flat = (c.arch.head === 'max' ? tf.max(h, [1, 2]) : tf.reshape(h, [x.shape[0], -1])) as tf.Tensor2D;
  const features = tf.relu(tf.add(tf.matMul(flat, w['fc1.weight'] as tf.Tensor2D), w['fc1.bias'])) as tf.Tensor2D;
  const logits = tf.add(tf.matMul(features, w['fc2.weight'] as tf.Tensor2D), w['fc2.bias']) as tf.Tensor2D;
  return { logits, features };
}

/** Number of [S,S,C] images in `images`, or a one-line error naming `what`. */
export function imageCount(c: Classifier, images: Float32Array, what: string): number {
  const { imageSize: s, channels: ch } = c.arch;
  const per = s * s * ch;
  if (!(images instanceof Float32Array)) throw new Error(`${what}: expected a Float32Array of [n, ${s}, ${s}, ${ch}] images`);
  if (images.length === 0 || images.length % per !== 0) {
    throw new Error(
      `${what}: ${images.length} values is not a whole number of ${s}×${s}×${ch} images ` +
        `(the classifier was trained for ${s} px, ${ch === 1 ? 'one channel' : `${ch} channels`})`,
    );
  }
  return images.length / per;
}

export interface Classification {
  n: number;
  /** [n, K] softmax probabilities. */
  probs: Float32Array;
  /** [n, K] logits. */
  logits: Float32Array;
  /** [n, hidden] penultimate features. */
  features: Float32Array;
  /** [n] argmax class. */
  predictions: Int32Array;
  /** [n] max probability. */
  confidence: Float32Array;
}

/**
 * Runs the classifier over images in batches.
 * @param images [n, S, S, C] in [-1, 1], S = classifier.arch.imageSize, C = its channels
 */
export function classify(c: Classifier, images: Float32Array, opts: { batchSize?: number } = {}): Classification {
  const n = imageCount(c, images, 'classify');
  const bs = opts.batchSize ?? 256;
  const s = c.arch.imageSize;
  const ch = c.arch.channels;
  const per = s * s * ch;
  const hd = c.arch.hidden;
  const K = c.arch.classes;
  const probs = new Float32Array(n * K);
  const logits = new Float32Array(n * K);
  const features = new Float32Array(n * hd);
  for (let start = 0; start < n; start += bs) {
    const b = Math.min(bs, n - start);
    const [l, p, f] = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * per, (start + b) * per), [b, s, s, ch]);
      const out = forward(c, x);
      return [out.logits, tf.softmax(out.logits), out.features];
    });
    logits.set(l.dataSync() as Float32Array, start * K);
    probs.set(p.dataSync() as Float32Array, start * K);
    features.set(f.dataSync() as Float32Array, start * hd);
    tf.dispose([l, p, f]);
  }
  const predictions = new Int32Array(n);
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k] > probs[i * K + best]) best = k;
    predictions[i] = best;
    confidence[i] = probs[i * K + best];
  }
  return { n, probs, logits, features, predictions, confidence };
}

/** Share of `labels` the classifier gets right on `images` ([n, S, S, C]). */
export function accuracy(c: Classifier, images: Float32Array, labels: ArrayLike<number>): number {
  const { n, predictions } = classify(c, images);
  if (labels.length !== n) throw new Error(`accuracy: ${n} images but ${labels.length} labels`);
  let ok = 0;
  for (let i = 0; i < n; i++) if (predictions[i] === labels[i]) ok++;
  return ok / n;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  logger?: MetricsLogger;
}

/**
 * Trains `c` in place with Adam on softmax cross-entropy, reshuffling each epoch (seeded). The last partial batch
 * of an epoch is used too.
 * @param images [n, S, S, C] in [-1, 1]
 * @param labels [n] in 0..K-1
 * @returns the mean loss of the last epoch
 */
export async function fitClassifier(c: Classifier, images: Float32Array, labels: ArrayLike<number>, opts: FitOptions): Promise<{ lastEpochLoss: number }> {
  const n = imageCount(c, images, 'fitClassifier');
  if (labels.length !== n) throw new Error(`fitClassifier: ${n} images but ${labels.length} labels`);
  const K = c.arch.classes;
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= K) throw new Error(`fitClassifier: label ${i} is ${labels[i]}, expected 0-${K - 1}`);
  }
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error(`fitClassifier: epochs must be a positive integer, got ${opts.epochs}`);
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`fitClassifier: batchSize must be a positive integer, got ${opts.batchSize}`);
  await ensureGradients();
  const s = c.arch.imageSize;
  const ch = c.arch.channels;
  const per = s * s * ch;
  const bs = Math.min(opts.batchSize, n);
  const xBuf = new Float32Array(bs * per);
  const yBuf = new Int32Array(bs);
  const optimizer = tf.train.adam(opts.lr ?? 1e-3);
  const varList = Object.values(c.weights);
  let lastEpochLoss = NaN;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const t0 = Date.now();
      const order = permutation(n, hashSeed(opts.seed, epoch, 0xf17));
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < n; start += bs) {
        const b = Math.min(bs, n - start);
        for (let i = 0; i < b; i++) {
          const j = order[start + i];
          xBuf.set(images.subarray(j * per, (j + 1) * per), i * per);
          yBuf[i] = labels[j];
        }
        const [loss, hits] = tf.tidy(() => {
          const x = tf.tensor4d(xBuf.subarray(0, b * per), [b, s, s, ch]);
          const y = tf.tensor1d(yBuf.subarray(0, b), 'int32');
          let right: tf.Scalar | undefined;
          const cost = optimizer.minimize(() => {
            const { logits } = forward(c, x);
            right = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32')) as tf.Scalar);
            const logp = tf.logSoftmax(logits);
            return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, K), logp), 1))) as tf.Scalar;
          }, true, varList);
          return [cost as tf.Scalar, right as tf.Scalar];
        });
        const l = loss.dataSync()[0];
        correct += hits.dataSync()[0];
        tf.dispose([loss, hits]);
        if (!Number.isFinite(l)) throw new Error(`fitClassifier: loss became ${l} at epoch ${epoch + 1} (learning rate ${opts.lr ?? 1e-3} too high?)`);
        lossSum += l * b;
      }
      lastEpochLoss = lossSum / n;
      opts.logger?.info(
        { epoch: epoch + 1, epochs: opts.epochs, loss: Number(lastEpochLoss.toFixed(4)), trainAccuracyRunning: Number((correct / n).toFixed(4)), seconds: (Date.now() - t0) / 1000 },
        `classifier epoch ${epoch + 1}/${opts.epochs}: loss ${lastEpochLoss.toFixed(4)}, running accuracy ${(correct / n).toFixed(4)}`,
      );
    }
  } finally {
    optimizer.dispose();
  }
  return { lastEpochLoss };
}

/**
 * Writes the weights (F32) and metadata to a safetensors file (atomically). `extra` values are stringified.
 */
export async function saveClassifier(c: Classifier, path: string, extra: Record<string, string | number> = {}): Promise<void> {
  const tensors: NamedTensor[] = WEIGHT_NAMES.map((name) => ({
    name,
    dtype: 'F32',
    shape: c.weights[name].shape.slice(),
    data: c.weights[name].dataSync() as Float32Array,
  }));
  const metadata: Record<string, string> = { ...c.metadata };
  for (const [k, v] of Object.entries(extra)) metadata[k] = String(v);
  Object.assign(metadata, {
    format: CLASSIFIER_FORMAT,
    architecture: CLASSIFIER_ARCH_VERSION,
    imageSize: String(c.arch.imageSize),
    channels: String(c.arch.channels),
    conv1: String(c.arch.conv1),
    conv2: String(c.arch.conv2),
    hidden: String(c.arch.hidden),
    classes: String(c.arch.classes),
    head: c.arch.head,
    downsample: String(c.arch.downsample),
    task: c.task,
  });
  await writeSafetensors(path, tensors, metadata);
  c.metadata = metadata;
}

/**
 * Loads a classifier written by saveClassifier / trainClassifier.
 * @throws Error (one line, naming the file) when the file is missing, corrupt, not a classifier, of another
 *   architecture version, or has missing / misshapen weights
 */
export async function loadClassifier(path: string): Promise<Classifier> {
  let file;
  try {
    file = await readSafetensors(path);
  } catch (e) {
    if (e instanceof CheckpointError) throw new Error(`loadClassifier: ${e.message.replace(/^checkpoint /, 'file ')}`);
    throw e;
  }
  const md = file.metadata;
  const fail = (problem: string): never => {
    throw new Error(`loadClassifier: ${path} ${problem}`);
  };
  if (md.format !== CLASSIFIER_FORMAT) {
    fail(`is not a @gan/metrics classifier (metadata format is ${md.format === undefined ? 'missing' : `'${md.format}'`}; is it a GAN checkpoint? train one with \`gan-train classifier\`)`);
  }
  const v1 = md.architecture === ARCH_V1;
  if (!v1 && md.architecture !== CLASSIFIER_ARCH_VERSION) {
    fail(`has classifier architecture '${md.architecture}', this build reads '${CLASSIFIER_ARCH_VERSION}' (and '${ARCH_V1}'); retrain the classifier`);
  }
  const num = (k: string): number => {
    const v = Number(md[k]);
    if (md[k] === undefined || !Number.isInteger(v)) fail(`has no valid integer metadata '${k}' (got ${JSON.stringify(md[k])})`);
    return v;
  };
  // Version 1 files are MNIST classifiers by construction: one channel, ten classes, no task recorded.
  if (v1 && num('classes') !== NUM_CLASSES) fail(`has ${md.classes} classes, expected ${NUM_CLASSES} for a '${ARCH_V1}' file`);
  const task = (v1 ? 'mnist' : md.task) as ClassifierTask;
  if (!CLASSIFIER_TASKS.includes(task)) fail(`has task ${JSON.stringify(md.task)}, expected one of ${CLASSIFIER_TASKS.join(', ')}`);
  const channels = v1 ? 1 : num('channels');
  if (channels !== 1 && channels !== 3) fail(`has ${channels} channels, expected 1 or 3`);
  const arch: ClassifierArch = {
    imageSize: num('imageSize'), channels: channels as 1 | 3, classes: num('classes'),
    head: v1 ? 'flatten' : (md.head as ClassifierArch['head']), downsample: v1 ? 1 : num('downsample'),
    conv1: num('conv1'), conv2: num('conv2'), hidden: num('hidden'),
  };
  try {
    validateArch(arch);
  } catch (e) {
    fail(`has invalid metadata: ${(e as Error).message}`);
  }
  const shapes = shapesOf(arch);
  for (const name of WEIGHT_NAMES) {
    const t = file.tensors.get(name);
    if (!t) fail(`has no tensor '${name}'`);
    else if (t.dtype !== 'F32') fail(`tensor '${name}' is ${t.dtype}, expected F32`);
    else if (t.shape.join(',') !== shapes[name].join(',')) fail(`tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shapes[name].join(', ')}] for its metadata`);
  }
  const weights = {} as Record<WeightName, tf.Variable>;
  for (const name of WEIGHT_NAMES) {
    const t = file.tensors.get(name)!;
    weights[name] = tf.tidy(() => tf.variable(tf.tensor(t.data as Float32Array, t.shape, 'float32'), true, `gan-metrics/${name}/${nextId++}`));
  }
  return { arch, weights, metadata: { ...md }, task };
}
