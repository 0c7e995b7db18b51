// Tests of the MNIST classifier machinery on the cpu backend with tiny shapes: it learns a synthetic separable task
// (horizontal vs vertical bars), a save/load round trip reproduces the logits exactly, bad files fail with clear
// errors, and scoreImages counts histogram / confident share correctly on hand-made inputs.
// Run: node tools/run-tests.mjs libs/metrics classifier
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gan/backend';
import { readSafetensors, writeSafetensors } from '@gan/checkpoint';
import { Rng } from '@gan/data';
import {
  accuracy,
  classify,
  createClassifier,
  disposeClassifier,
  fitClassifier,
  loadClassifier,
  saveClassifier,
  scoreImages,
  type Classifier,
} from './index';

const S = 8;
const TINY = { imageSize: S, conv1: 4, conv2: 8, hidden: 16 };

before(async () => {
  await initBackend('cpu');
});

/** n S×S images in [-1, 1]: class 0 = a horizontal bar, class 1 = a vertical bar, at random positions, with noise. */
function bars(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * S * S);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    y[i] = cls;
    const pos = 1 + rng.int(S - 2);
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const on = cls === 0 ? r === pos : c === pos;
        x[i * S * S + r * S + c] = (on ? 1 : -1) + 0.1 * rng.normal();
      }
    }
  }
  return { x, y };
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gan-metrics-test-'));
}

test('a tiny classifier learns horizontal vs vertical bars to high held-out accuracy', async () => {
  const train = bars(256, 1);
  const held = bars(128, 2);
  const c = createClassifier(TINY, 3);
  try {
    const before = accuracy(c, held.x, held.y);
    const { lastEpochLoss } = await fitClassifier(c, train.x, train.y, { epochs: 6, batchSize: 32, seed: 4, lr: 3e-3 });
    const after = accuracy(c, held.x, held.y);
    assert.ok(after >= 0.95, `held-out accuracy after training ${after} (before ${before}, last loss ${lastEpochLoss})`);
    assert.ok(lastEpochLoss < 0.3, `last-epoch loss ${lastEpochLoss}`);
    // Predictions only ever name the two trained classes once it has learnt them.
    const { predictions } = classify(c, held.x);
    assert.ok(predictions.every((p) => p === 0 || p === 1));
  } finally {
    disposeClassifier(c);
  }
});

test('training does not leak tensors', async () => {
  const train = bars(40, 5);
  const c = createClassifier(TINY, 6);
  try {
    await fitClassifier(c, train.x, train.y, { epochs: 1, batchSize: 16, seed: 1 }); // warm up (optimizer slots are freed)
    const n0 = tf.memory().numTensors;
    await fitClassifier(c, train.x, train.y, { epochs: 1, batchSize: 16, seed: 2 });
    classify(c, train.x);
    assert.equal(tf.memory().numTensors, n0);
  } finally {
    disposeClassifier(c);
  }
});

test('save / load round trip gives identical logits and keeps metadata', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'c.safetensors');
  const c = createClassifier(TINY, 7);
  let d: Classifier | undefined;
  try {
    const { x } = bars(10, 8);
    await saveClassifier(c, file, { heldOutAccuracy: 0.5 });
    d = await loadClassifier(file);
    assert.deepEqual(d.arch, { imageSize: S, channels: 1, classes: 10, head: 'flatten', downsample: 1, conv1: 4, conv2: 8, hidden: 16 });
    assert.equal(d.task, 'mnist');
    assert.equal(d.metadata.heldOutAccuracy, '0.5');
    assert.deepEqual(classify(d, x).logits, classify(c, x).logits);
    // A different seed really gives different logits (so the equality above is not vacuous).
    const e = createClassifier(TINY, 9);
    assert.notDeepEqual(classify(e, x).logits, classify(c, x).logits);
    disposeClassifier(e);
  } finally {
    disposeClassifier(c);
    if (d) disposeClassifier(d);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadClassifier: clear one-line errors for missing, foreign and mismatched files', async () => {
  const dir = tmpDir();
  try {
    await assert.rejects(loadClassifier(path.join(dir, 'nope.safetensors')), /loadClassifier: file .*nope\.safetensors does not exist/);
    const garbage = path.join(dir, 'garbage.safetensors');
    fs.writeFileSync(garbage, 'not a safetensors file at all');
    await assert.rejects(loadClassifier(garbage), /loadClassifier: file .*garbage\.safetensors/);
    const gan = path.join(dir, 'gan.safetensors');
    await writeSafetensors(gan, [{ name: 'g.fc.weight', dtype: 'F32', shape: [2], data: new Float32Array(2) }], { step: '5' });
    await assert.rejects(loadClassifier(gan), /is not a @gan\/metrics classifier \(metadata format is missing/);
    // Right format but a tensor of the wrong shape for its metadata.
    const c = createClassifier(TINY, 1);
    const good = path.join(dir, 'good.safetensors');
    await saveClassifier(c, good);
    disposeClassifier(c);
    const f = await readSafetensors(good);
    const md = { ...f.metadata };
    delete md.sha256;
    const bad = path.join(dir, 'bad.safetensors');
    await writeSafetensors(bad, [...f.tensors].map(([name, t]) => ({ name, ...t })), { ...md, hidden: '17' });
    await assert.rejects(loadClassifier(bad), /tensor 'fc1\.weight' has shape \[32, 16\], expected \[32, 17\]/);
    await writeSafetensors(bad, [...f.tensors].map(([name, t]) => ({ name, ...t })), { ...md, architecture: 'mnist-cnn-v0' });
    await assert.rejects(loadClassifier(bad), /architecture 'mnist-cnn-v0'.*retrain/);
    await writeSafetensors(bad, [...f.tensors].map(([name, t]) => ({ name, ...t })), { ...md, task: 'cifar' });
    await assert.rejects(loadClassifier(bad), /has task "cifar", expected one of mnist, shapes/);
    await writeSafetensors(bad, [...f.tensors].map(([name, t]) => ({ name, ...t })), { ...md, channels: '3' });
    await assert.rejects(loadClassifier(bad), /tensor 'conv1\.weight' has shape \[3, 3, 1, 4\], expected \[3, 3, 3, 4\]/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('files of the previous format (mnist-cnn-v1: no channels, head, downsample or task) still load as MNIST classifiers', async () => {
  const dir = tmpDir();
  const c = createClassifier(TINY, 11);
  let d: Classifier | undefined;
  try {
    const file = path.join(dir, 'v1.safetensors');
    // What the previous build wrote: the same weights with only its own metadata keys.
    const tensors = Object.entries(c.weights).map(([name, v]) => ({ name, dtype: 'F32' as const, shape: v.shape.slice(), data: v.dataSync() as Float32Array }));
    await writeSafetensors(file, tensors, { format: 'gan-metrics-classifier', architecture: 'mnist-cnn-v1', imageSize: String(S), conv1: '4', conv2: '8', hidden: '16', classes: '10', heldOutAccuracy: '0.9870' });
    d = await loadClassifier(file);
    assert.equal(d.task, 'mnist');
    assert.deepEqual(d.arch, { imageSize: S, channels: 1, classes: 10, head: 'flatten', downsample: 1, conv1: 4, conv2: 8, hidden: 16 });
    const { x } = bars(6, 12);
    assert.deepEqual(classify(d, x).logits, classify(c, x).logits);
    await writeSafetensors(file, tensors, { format: 'gan-metrics-classifier', architecture: 'mnist-cnn-v1', imageSize: String(S), conv1: '4', conv2: '8', hidden: '16', classes: '3' });
    await assert.rejects(loadClassifier(file), /has 3 classes, expected 10 for a 'mnist-cnn-v1' file/);
  } finally {
    disposeClassifier(c);
    if (d) disposeClassifier(d);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a 3-channel, 3-class classifier with the max head and a 2× downsample saves and loads', async () => {
  const dir = tmpDir();
  const arch = { imageSize: 16, channels: 3 as const, classes: 3, head: 'max' as const, downsample: 2, conv1: 4, conv2: 6, hidden: 5 };
  const c = createClassifier(arch, 3, 'shapes');
  let d: Classifier | undefined;
  try {
    const rng = new Rng(4);
    const x = Float32Array.from({ length: 4 * 16 * 16 * 3 }, () => rng.next() * 2 - 1);
    const out = classify(c, x);
    assert.equal(out.probs.length, 4 * 3);
    assert.equal(out.features.length, 4 * 5);
    const file = path.join(dir, 's.safetensors');
    await saveClassifier(c, file);
    d = await loadClassifier(file);
    assert.equal(d.task, 'shapes');
    assert.deepEqual(d.arch, arch);
    assert.deepEqual(classify(d, x).logits, out.logits);
    assert.throws(() => createClassifier({ ...arch, imageSize: 20 }, 0), /imageSize must be a positive multiple of 8 \(two 2×2 pools after a 2× downsample\), got 20/);
    assert.throws(() => classify(c, new Float32Array(16 * 16)), /classify: 256 values is not a whole number of 16×16×3 images \(the classifier was trained for 16 px, 3 channels\)/);
  } finally {
    disposeClassifier(c);
    if (d) disposeClassifier(d);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A classifier whose outputs are set by hand: conv/fc1 pass the mean pixel through (a positive offset keeps it out
 * of the ReLU's dead zone), and fc2 turns it into class logits, so the class is decided by image brightness.
 * Image with all pixels v: feature f = v + 2 (hidden unit 0; unit 1 is always 0).
 */
function handMade(): Classifier {
  const c = createClassifier({ imageSize: 4, conv1: 1, conv2: 1, hidden: 2 }, 0);
  const set = (name: keyof Classifier['weights'], values: number[]) => c.weights[name].assign(tf.tensor(values, c.weights[name].shape));
  // conv1: centre tap 1, bias 2 → pixel + 2 ≥ 1 > 0; maxpool of a constant image is the constant.
  set('conv1.weight', [0, 0, 0, 0, 1, 0, 0, 0, 0]);
  set('conv1.bias', [2]);
  set('conv2.weight', [0, 0, 0, 0, 1, 0, 0, 0, 0]);
  set('conv2.bias', [0]);
  // fc1: unit 0 = the single pooled value (1×1×1 after two pools of 4 px), unit 1 = 0.
  set('fc1.weight', [1, 0]);
  set('fc1.bias', [0, 0]);
  // fc2: only class 3 has a non-zero logit, 30·f - 60: 30 for a white image (f = 3), 0 for a grey one (f = 2),
  // where all ten logits tie and the softmax is uniform.
  const w2 = new Array(2 * 10).fill(0);
  const b2 = new Array(10).fill(0);
  w2[3] = 30;
  b2[3] = -60;
  set('fc2.weight', w2);
  set('fc2.bias', b2);
  return c;
}

function constantImages(values: number[]): Float32Array {
  const x = new Float32Array(values.length * 16);
  values.forEach((v, i) => x.fill(v, i * 16, (i + 1) * 16));
  return x;
}

test('scoreImages: histogram, classes covered and confident share on hand-made inputs', () => {
  const c = handMade();
  try {
    // v = 1 → logits class 3 = 30, rest 0 → confident class 3. v = 0 → logit 3 = 0, all 0 → uniform (p = 0.1),
    // argmax = class 0 (first of ties), not confident.
    const gen = constantImages([1, 1, 1, 0]);
    const real = constantImages([1, 0, 1, 0, 0.5]);
    const probs = classify(c, gen).probs;
    assert.ok(probs[3] > 0.999, `p(class 3 | bright) = ${probs[3]}`);
    const s = scoreImages(c, gen, real);
    assert.deepEqual(s.histogram, [1, 0, 0, 3, 0, 0, 0, 0, 0, 0]);
    assert.equal(s.classesCovered, 2);
    assert.equal(s.confident, 0.75);
    assert.equal(s.generated, 4);
    assert.equal(s.real, 5);
    // Features are 1-D here (unit 1 is always 0): gen f = [3,3,3,2], real f = [3,2,3,2,2.5].
    // Fréchet = (μg-μr)² + σg² + σr² - 2σgσr with unbiased variances: μg = 2.75, σg² = 0.25; μr = 2.5, σr² = 0.25.
    assert.ok(Math.abs(s.frechet - 0.0625) < 1e-5, `frechet ${s.frechet}`);
    // Identical sets: distance ~0.
    assert.ok(scoreImages(c, gen, gen).frechet < 1e-6);
  } finally {
    disposeClassifier(c);
  }
});

test('scoreImages rejects images of the wrong size with a one-line error', () => {
  const c = createClassifier(TINY, 1);
  try {
    const ok = new Float32Array(3 * S * S);
    assert.throws(() => scoreImages(c, new Float32Array(3 * 28 * 28), ok), /scoreImages \(generated\): 2352 values is not a whole number of 8×8×1 images/);
    assert.throws(() => scoreImages(c, ok, new Float32Array(S * S)), /need at least 2 real images/);
  } finally {
    disposeClassifier(c);
  }
});
