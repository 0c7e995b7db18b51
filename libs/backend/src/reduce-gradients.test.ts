// Sum's and Mean's gradients (dy broadcast back by Tile) give tfjs-core's values bit for bit (dy·ones, and that
// over n for Mean) on cpu and wasm, for leading, trailing, middle and all axes, kept or not; the wasm Tile's copy
// path gives cpu's Tile, and other tilings still go through wasm's own.
// Run: node tools/run-tests.mjs libs/backend reduce-gradients
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { meanGradConfig, sumGradConfig } from './reduce-gradients';
import { tileIsRepeat, wasmTileKernelRegistered } from './wasm-tile-kernel';

before(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});

const CASES: [number[], number[], boolean][] = [
  [[4, 3, 3, 8], [0, 1, 2], false], // BatchNorm's statistics
  [[4, 3, 3, 8], [0, 1, 2], true],
  [[16, 5], [0], false], // a bias over a batch
  [[4, 3, 5], [2], true],
  [[4, 3, 5], [1], false],
  [[2, 3, 4], [0, 1, 2], false],
];

function values(n: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', seed).dataSync() as Float32Array).slice();
}

async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => fn().dataSync() as Float32Array).slice();
}

test("our Sum and Mean gradients are registered, and equal tfjs-core's dy·ones (over n) bit for bit", async () => {
  assert.equal(tf.getGradient('Sum')!.gradFunc, sumGradConfig.gradFunc);
  assert.equal(tf.getGradient('Mean')!.gradFunc, meanGradConfig.gradFunc);
  for (const [shape, axes, keepDims] of CASES) {
    const n = shape.reduce((a, b) => a * b, 1);
    const xv = values(n, n);
    const reduced = shape.filter((_, i) => !axes.includes(i));
    const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const wShape = keepDims ? keptShape : reduced;
    const wv = values(Math.max(1, reduced.reduce((a, b) => a * b, 1)), 7);
    const count = axes.reduce((p, a) => p * shape[a], 1);
    for (const backend of ['cpu', 'wasm'] as const) {
      for (const op of ['sum', 'mean'] as const) {
        const got = await on(backend, () => {
          const w = tf.tensor(wv, wShape);
          return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf[op](x, axes, keepDims), w)))(tf.tensor(xv, shape));
        });
        const want = await on(backend, () => {
          const dy = tf.reshape(tf.tensor(wv, wShape), keptShape);
          const spread = tf.mul(dy, tf.ones(shape));
          return op === 'mean' ? tf.div(spread, count) : spread;
        });
        const label = `${backend} ${op} of [${shape}] over [${axes}] keepDims ${keepDims}`;
        assert.equal(got.length, want.length, label);
        for (let i = 0; i < got.length; i++) assert.ok(Object.is(got[i], want[i]), `${label} at ${i}: ${got[i]} vs ${want[i]}`);
      }
    }
  }
});

test("wasm's Tile copies when only leading size-1 axes repeat, and agrees with cpu's Tile in every case", async () => {
  assert.ok(wasmTileKernelRegistered());
  assert.ok(tileIsRepeat([1, 1, 1, 8], [4, 3, 3, 1]) && tileIsRepeat([1, 5], [16, 1]) && tileIsRepeat([2, 3], [1, 1]));
  assert.ok(!tileIsRepeat([2, 1, 8], [1, 3, 1]) && !tileIsRepeat([1, 4], [2, 2]));
  for (const [shape, reps, dtype] of [
    [[1, 1, 1, 8], [4, 3, 3, 1], 'float32'], [[1, 5], [16, 1], 'float32'], [[1, 3], [7, 1], 'int32'],
    [[2, 1, 3], [1, 4, 1], 'float32'], [[2, 3], [2, 2], 'int32'], [[1, 1], [3, 3], 'float32'],
  ] as [number[], number[], 'float32' | 'int32'][]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: n }, (_, i) => (dtype === 'int32' ? i - 3 : (i - 3) * 0.37));
    const run = () => tf.tile(tf.tensor(v, shape, dtype), reps);
    const want = await on('cpu', run);
    const got = await on('wasm', run);
    assert.deepEqual(Array.from(got), Array.from(want), `tile [${shape}] by [${reps}] ${dtype}`);
  }
});
