// Tests of the shapes classifier: a small one trained by trainShapesClassifier (32 px, 3 channels, 3,000 images, 4 epochs)
// must label fresh shapes images — another seed of the generator, never seen — with ≥ 95 % accuracy, reload from
// its file as a 'shapes' task classifier, and give a shapes-classifier FD whose real-vs-real floor sits far below
// the FD of noise or of a single-shape "generator" (with an IS near 3 for real shapes and near 1 for one shape).
// Run: node tools/run-tests.mjs libs/metrics shapes-classifier
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '@gan/backend';
import { openDataset, Rng } from '@gan/data';
import { accuracy, classifierExtractor, disposeClassifier, featureScores, loadClassifier, shapesDownsample, trainShapesClassifier, type Classifier } from './index';

let dir: string;
before(async () => {
  await initBackend('wasm');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-shapes-clf-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('shapesDownsample keeps the convs at ≤ 32 px', () => {
  assert.deepEqual([16, 32, 64, 128, 96].map(shapesDownsample), [1, 1, 2, 4, 4]);
  assert.equal(shapesDownsample(36), 1, '36 is not a multiple of 8: no downsample');
});

test('a small shapes classifier reaches ≥ 95 % on fresh images and gives meaningful FD / IS floors', async (t) => {
  const S = 32;
  const out = path.join(dir, 'shapes-32.safetensors');
  const r = await trainShapesClassifier({ imageSize: S, channels: 3, trainCount: 3000, heldOutCount: 500, epochs: 4, batchSize: 32, seed: 2, out });
  t.diagnostic(`train ${r.trainAccuracy}, held-out ${r.heldOutAccuracy}, ${r.seconds.toFixed(1)} s`);
  assert.ok(r.heldOutAccuracy >= 0.95, `held-out accuracy ${r.heldOutAccuracy}`);

  let c: Classifier | undefined;
  try {
    c = await loadClassifier(r.path);
    assert.equal(c.task, 'shapes');
    assert.deepEqual(c.arch, { imageSize: S, channels: 3, classes: 3, head: 'max', downsample: 1, conv1: 16, conv2: 32, hidden: 64 });
    // Fresh images: the generator with another seed (a run's), labels from the generator itself.
    const ds = await openDataset({ name: 'shapes', seed: 12345, imageSize: S, channels: 3, length: 1500 });
    const all = new Float32Array(ds.length * ds.sampleSize);
    await ds.read(Array.from({ length: ds.length }, (_, i) => i), all);
    const fresh = accuracy(c, all.subarray(0, 500 * ds.sampleSize), ds.labels!.subarray(0, 500));
    t.diagnostic(`fresh accuracy ${fresh}`);
    assert.ok(fresh >= 0.95, `accuracy on fresh shapes ${fresh}`);

    const ex = classifierExtractor(c);
    const shape = { size: S, channels: 3 };
    const realA = all.subarray(500 * ds.sampleSize, 1000 * ds.sampleSize);
    const realB = all.subarray(1000 * ds.sampleSize);
    const rng = new Rng(3);
    const noise = Float32Array.from({ length: 500 * ds.sampleSize }, () => rng.next() * 2 - 1);
    const real = await featureScores(ex, { generated: all.subarray(0, 500 * ds.sampleSize), realA, realB }, shape);
    const vsNoise = await featureScores(ex, { generated: noise, realA, realB }, shape);
    const circles: number[] = [];
    for (let i = 0; i < ds.length && circles.length < 500; i++) if (ds.labels![i] === 0) circles.push(i);
    const onlyCircles = new Float32Array(circles.length * ds.sampleSize);
    await ds.read(circles, onlyCircles);
    const collapsed = await featureScores(ex, { generated: onlyCircles, realA, realB: realB.subarray(0, circles.length * ds.sampleSize) }, shape);
    t.diagnostic(`real: ${JSON.stringify(real.fd)} ${JSON.stringify(real.is)}`);
    t.diagnostic(`noise: FD ${vsNoise.fd.value}, IS ${vsNoise.is?.value}; circles only: FD ${collapsed.fd.value}, IS ${collapsed.is?.value}`);
    assert.equal(real.fd.name, 'shapes-classifier FD');
    assert.equal(real.is?.name, 'shapes-classifier IS');
    // Real images scored as "generated" sit at the floor; noise and a collapsed generator far above it.
    assert.ok(real.fd.value < 3 * real.fd.real_vs_real + 1e-3, `real ${real.fd.value} vs floor ${real.fd.real_vs_real}`);
    assert.ok(vsNoise.fd.value > 10 * real.fd.real_vs_real, `noise ${vsNoise.fd.value} vs floor ${real.fd.real_vs_real}`);
    assert.ok(collapsed.fd.value > 5 * collapsed.fd.real_vs_real, `circles ${collapsed.fd.value} vs floor ${collapsed.fd.real_vs_real}`);
    // Three balanced, confidently classified classes: IS near 3; one class: near 1.
    assert.ok(real.is!.real_vs_real > 2.5 && real.is!.value > 2.5, `IS ${JSON.stringify(real.is)}`);
    assert.ok(collapsed.is!.value < 1.3, `IS of circles only ${collapsed.is!.value}`);
  } finally {
    if (c) disposeClassifier(c);
  }
});
