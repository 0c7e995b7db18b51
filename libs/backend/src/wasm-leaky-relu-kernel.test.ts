// Our wasm LeakyRelu (wasm's Prelu with a slope vector) gives x for x > 0 and the float32 product x·α otherwise, bit
// for bit, as PyTorch's float32 leaky_relu (and wasm's own kernel) does, on 1-D to 4-D tensors with zeros and both
// signs; it keeps one slope vector per width. (tfjs-cpu multiplies by the double α and may differ in the last bit.)
// Run: node tools/run-tests.mjs libs/backend wasm-leaky-relu
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { wasmLeakyReluKernelRegistered } from './wasm-leaky-relu-kernel';

before(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
});

function values(n: number, seed: number): Float32Array {
  const v = tf.tidy(() => tf.randomNormal([n], 0, 3, 'float32', seed).dataSync() as Float32Array).slice();
  for (let i = 0; i < n; i += 7) v[i] = 0;
  return v;
}

test('LeakyRelu on wasm is x or the float32 x·α bit for bit, and within one rounding of cpu', async () => {
  assert.ok(wasmLeakyReluKernelRegistered());
  for (const [shape, alpha] of [[[64, 33], 0.2], [[4, 5, 6, 7], 0.01], [[3, 8], 0.3], [[9], 0.2]] as [number[], number][]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = values(n, n);
    await tf.setBackend('cpu');
    const want = tf.tidy(() => tf.leakyRelu(tf.tensor(v, shape), alpha).dataSync() as Float32Array).slice();
    await tf.setBackend('wasm');
    const got = tf.tidy(() => tf.leakyRelu(tf.tensor(v, shape), alpha).dataSync() as Float32Array).slice();
    for (let i = 0; i < n; i++) {
      const expect = v[i] > 0 ? v[i] : Math.fround(v[i] * Math.fround(alpha));
      assert.ok(Object.is(got[i], expect) || (got[i] === 0 && expect === 0), `shape ${shape} α ${alpha} at ${i}: x ${v[i]}, wasm ${got[i]}, want ${expect}`);
      assert.ok(Math.abs(want[i] - got[i]) <= 1e-6 * Math.abs(want[i]), `shape ${shape} α ${alpha} at ${i}: cpu ${want[i]}, wasm ${got[i]}`);
    }
  }
});

test('one slope vector per (width, α): repeated calls allocate nothing that lasts', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const x = tf.randomNormal([8, 4, 4, 16]);
  tf.leakyRelu(x, 0.2).dispose();
  const ids = backend.numDataIds();
  for (let i = 0; i < 3; i++) tf.leakyRelu(x, 0.2).dispose();
  assert.equal(backend.numDataIds(), ids);
  x.dispose();
});
