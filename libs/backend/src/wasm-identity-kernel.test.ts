// Our wasm Identity shares its input's buffer: a clone costs no copy, and either tensor outlives the other's
// disposal with its values intact. Run: node tools/run-tests.mjs libs/backend wasm-identity
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { wasmIdentityKernelRegistered } from './wasm-identity-kernel';

before(async () => {
  await initBackend('wasm');
});

test('Identity shares the buffer, and disposing either tensor leaves the other readable', () => {
  assert.ok(wasmIdentityKernelRegistered());
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const ids = backend.numDataIds();
  const y = x.clone();
  assert.equal(backend.numDataIds(), ids, 'a clone allocates no new buffer');
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4], 'the clone survives its source');
  const z = tf.add(y, 1);
  y.dispose();
  assert.equal(backend.numDataIds(), ids, "the shared buffer was freed with its last tensor (z's is the new one)");
  assert.deepEqual(Array.from(z.dataSync()), [2, 3, 4, 5]);
  z.dispose();
});

test('gradients through saved (cloned) tensors are unchanged', () => {
  const x = tf.tensor([0.5, -1, 2]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(t, tf.relu(t))))(x);
  assert.deepEqual(Array.from(g.dataSync()), [1, 0, 4]);
  tf.dispose([x, g]);
});
