// Real-MNIST check of trainClassifier + scoreImages on the wasm backend, kept small: a narrow CNN (8/16/32) trains
// two epochs on 3,000 of the t10k images at 28 px and must beat 85% on the 2,000 held-out ones; then real digits
// score as confident, cover all 10 classes and sit much closer (classifier Fréchet) to other real digits than
// noise does. Skipped, with the reason, when ../shared/datasets/mnist beside the project (or $GAN_MNIST_DIR) is absent or when a
// timed probe step predicts more than ~60 s.
// Run: node tools/run-tests.mjs libs/metrics mnist
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '@gan/backend';
import { openDataset, Rng } from '@gan/data';
import { createClassifier, disposeClassifier, fitClassifier, loadClassifier, scoreImages, trainClassifier, type Classifier } from './index';

const MNIST_DIR = process.env.GAN_MNIST_DIR ?? path.resolve(import.meta.dirname, '../../../../shared/datasets/mnist');
const ARCH = { conv1: 8, conv2: 16, hidden: 32 };
const TRAIN = 3000;
const EPOCHS = 2;
const BATCH = 64;
const BUDGET_S = 60;

function mnistPresent(): boolean {
  return ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].every(
    (f) => fs.existsSync(path.join(MNIST_DIR, f)) || fs.existsSync(path.join(MNIST_DIR, `${f}.gz`)),
  );
}

/** Seconds the whole check should take, from timing two training steps of the same shape on random data. */
async function predictSeconds(): Promise<number> {
  const c = createClassifier({ imageSize: 28, ...ARCH }, 0);
  const rng = new Rng(1);
  const x = Float32Array.from({ length: 2 * BATCH * 28 * 28 }, () => rng.next() * 2 - 1);
  const y = Int32Array.from({ length: 2 * BATCH }, (_, i) => i % 10);
  try {
    await fitClassifier(c, x.subarray(0, BATCH * 28 * 28), y.subarray(0, BATCH), { epochs: 1, batchSize: BATCH, seed: 0 }); // warm-up
    const t0 = performance.now();
    await fitClassifier(c, x, y, { epochs: 1, batchSize: BATCH, seed: 0 });
    const perStep = (performance.now() - t0) / 2000;
    // Training steps + forward passes over ~16k images for accuracy and scoring (≈ 1/3 of a step each) + loading.
    return perStep * ((EPOCHS * TRAIN) / BATCH) + (perStep / 3) * (16_000 / BATCH) + 3;
  } finally {
    disposeClassifier(c);
  }
}

test('real MNIST: a briefly trained classifier is accurate, confident on real digits, and Fréchet separates noise', async (t) => {
  if (!mnistPresent()) {
    t.skip(`MNIST t10k files not found in ${MNIST_DIR} (set GAN_MNIST_DIR)`);
    return;
  }
  await initBackend('wasm');
  const predicted = await predictSeconds();
  if (predicted > BUDGET_S) {
    t.skip(`predicted ${predicted.toFixed(0)} s on this machine, over the ${BUDGET_S} s budget for this check`);
    return;
  }
  t.diagnostic(`predicted ${predicted.toFixed(1)} s`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-metrics-mnist-'));
  let c: Classifier | undefined;
  try {
    const out = path.join(dir, 'mnist-28.safetensors');
    const r = await trainClassifier({ dataRoot: MNIST_DIR, imageSize: 28, epochs: EPOCHS, batchSize: BATCH, seed: 3, out, arch: ARCH, trainLimit: TRAIN, lr: 2e-3 });
    t.diagnostic(`train ${r.trainAccuracy.toFixed(4)}, held-out ${r.heldOutAccuracy.toFixed(4)}, ${r.seconds.toFixed(1)} s`);
    assert.equal(r.trainCount, TRAIN);
    assert.equal(r.heldOutCount, 2000);
    assert.ok(r.heldOutAccuracy > 0.85, `held-out accuracy ${r.heldOutAccuracy}`);

    c = await loadClassifier(r.path);
    assert.equal(c.metadata.heldOutAccuracy, r.heldOutAccuracy.toFixed(4));
    const ds = await openDataset({ name: 'mnist', root: MNIST_DIR, split: 'test', imageSize: 28, channels: 1, seed: 0 });
    const per = 28 * 28;
    const read = async (from: number, n: number) => {
      const x = new Float32Array(n * per);
      await ds.read(Array.from({ length: n }, (_, i) => from + i), x);
      return x;
    };
    const heldA = await read(8000, 1000);
    const heldB = await read(9000, 1000);
    const realVsReal = scoreImages(c, heldA, heldB);
    t.diagnostic(`real vs real: ${JSON.stringify(realVsReal)}`);
    assert.equal(realVsReal.classesCovered, 10);
    assert.ok(realVsReal.confident > 0.6, `confident share on real digits ${realVsReal.confident}`);
    // Every class should hold a sizeable share of real digits (MNIST is roughly balanced, ~100 per class here).
    assert.ok(Math.min(...realVsReal.histogram) > 50, `histogram ${realVsReal.histogram}`);

    const rng = new Rng(9);
    const noise = Float32Array.from({ length: 1000 * per }, () => rng.next() * 2 - 1);
    const noiseVsReal = scoreImages(c, noise, heldB);
    t.diagnostic(`noise vs real: frechet ${noiseVsReal.frechet}, confident ${noiseVsReal.confident}, covered ${noiseVsReal.classesCovered}`);
    assert.ok(noiseVsReal.frechet > 10 * realVsReal.frechet, `noise ${noiseVsReal.frechet} vs real ${realVsReal.frechet}`);
    // A generator producing only one digit covers one class and is far from the real distribution too.
    const ones = [];
    for (let i = 8000; i < 10000 && ones.length < 200; i++) if (ds.labels![i] === 1) ones.push(i);
    const onesX = new Float32Array(ones.length * per);
    await ds.read(ones, onesX);
    const collapsed = scoreImages(c, onesX, heldB);
    t.diagnostic(`only 1s vs real: ${JSON.stringify({ ...collapsed, histogram: collapsed.histogram.join(',') })}`);
    // The briefly trained net gets ~85% of 1s right; the full one (≈98%) does far better.
    assert.ok(collapsed.histogram[1] > 0.7 * ones.length, `histogram ${collapsed.histogram}`);
    assert.ok(collapsed.classesCovered < realVsReal.classesCovered, `covered ${collapsed.classesCovered}`);
    assert.ok(collapsed.frechet > 5 * realVsReal.frechet, `collapsed ${collapsed.frechet} vs real ${realVsReal.frechet}`);
  } finally {
    if (c) disposeClassifier(c);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
