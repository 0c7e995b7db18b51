// The speed bench (bench/step-time.ts) times the product's step, not a copy: the step it runs is @gan/training's
// exported trainStep, its cases are the run defaults plus a preset, and its profile counts kernels only. One tiny
// MLP step on the cpu backend exercises the whole path; nothing here looks at how long anything took.
// Run: node tools/run-tests.mjs bench
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gan/backend';
import { DEFAULT_CONFIG } from '@gan/config';
import { modelConfigOf, trainStep } from '@gan/training';
import { PRODUCT_STEP, parseCases, timeProductStep, topKernels } from './product-step';

before(async () => {
  await initBackend('cpu');
});

test("the bench's step is the trainer's exported trainStep", () => {
  assert.equal(PRODUCT_STEP, trainStep);
});

test('cases are the run defaults plus a preset and a batch size', () => {
  const [def, small, mlp] = parseCases('default/16,small/64,MLP/256');
  assert.equal(def.name, 'default/16');
  assert.deepEqual(def.config, { ...DEFAULT_CONFIG, batchSize: 16 });
  assert.deepEqual(def.model, modelConfigOf({ ...DEFAULT_CONFIG, batchSize: 16 }));
  assert.deepEqual(
    { size: small.model.imageSize, c: small.model.channels, ngf: small.model.ngf, ndf: small.model.ndf, b: small.config.batchSize },
    { size: 32, c: 1, ngf: 64, ndf: 32, b: 64 },
  );
  assert.equal(mlp.name, 'mlp/256');
  assert.equal(mlp.model.model, 'mlp');
  assert.equal(mlp.model.mlpHidden, DEFAULT_CONFIG.mlpHidden);
  for (const bad of ['huge/16', 'default', 'default/1', 'default/x']) {
    assert.throws(() => parseCases(bad), (e: Error) => e.message.startsWith(`bad case '${bad}'`) && !e.message.includes('\n'));
  }
});

test('topKernels sums per kernel name and ranks by time', () => {
  const top = topKernels([
    { name: 'Conv2D', kernelTimeMs: 2 }, { name: 'Add', kernelTimeMs: 1 }, { name: 'Conv2D', kernelTimeMs: 3 }, { name: 'Relu', kernelTimeMs: 0.5 },
  ], 2);
  assert.deepEqual(top, [{ name: 'Conv2D', ms: 5, count: 2 }, { name: 'Add', ms: 1, count: 1 }]);
});

test('one profiled and one timed product step of a small MLP: finite losses, kernels only in the profile, no leak', async () => {
  const [c] = parseCases('mlp/8');
  const tensorsBefore = tf.memory().numTensors;
  const r = await timeProductStep(c, { steps: 1, warmup: 0, profileTop: 5 });
  assert.equal(r.times.length, 1);
  assert.ok(Number.isFinite(r.lossD) && Number.isFinite(r.lossG), `losses ${r.lossD}, ${r.lossG}`);
  const p = r.profile!;
  assert.ok(p.top.length > 0 && p.top.length <= 5);
  assert.ok(p.top.some((k) => k.name === 'BatchMatMul'), `an MLP step runs matMuls: ${p.top.map((k) => k.name).join(', ')}`);
  for (const k of p.top) {
    assert.ok(tf.getKernel(k.name, 'cpu') != null, `${k.name} is a kernel, not a scope`);
    assert.ok(k.count >= 1);
  }
  assert.ok(p.top.every((k, i) => i === 0 || p.top[i - 1].ms >= k.ms), 'largest first');
  assert.ok(p.kernels >= p.top.reduce((n, k) => n + k.count, 0));
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the GAN and every step tensor are freed');
});
