// Our wasm Transpose moves the same bits as the cpu backend's for every rank, permutation and dtype the product can
// send, the training step's shapes included. Run: node tools/run-tests.mjs libs/backend wasm-transpose
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { collapseTranspose, wasmTransposeKernelRegistered } from './wasm-transpose-kernel';

before(async () => {
  await initBackend('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
});

/** Every permutation of 0..n-1. */
function perms(n: number): number[][] {
  if (n === 0) return [[]];
  return perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** x transposed by perm on backend `name`, read back. */
function on(name: string, values: Float32Array | Int32Array | Uint8Array, shape: number[], dtype: 'float32' | 'int32' | 'bool', perm: number[]) {
  const prev = tf.getBackend();
  tf.setBackend(name);
  try {
    return tf.tidy(() => {
      const y = tf.transpose(tf.tensor(values, shape, dtype), perm);
      return { shape: y.shape, values: y.dataSync().slice() };
    });
  } finally {
    tf.setBackend(prev);
  }
}

test('every permutation of ranks 1-5, with size-1 axes and tile edges, equals the cpu backend bit for bit', () => {
  assert.ok(wasmTransposeKernelRegistered());
  const shapes = [[7], [33, 5], [1, 40, 3], [3, 1, 35, 2], [2, 3, 1, 4, 33], [64, 2, 2, 37]];
  let n = 0;
  for (const shape of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const f = Float32Array.from({ length: size }, (_, i) => (i * 0.37) % 11 - 5 + i * 1e-6);
    f[0] = -0; // the sign of zero must survive
    for (const perm of perms(shape.length)) {
      const want = on('cpu', f, shape, 'float32', perm);
      const got = on('wasm', f, shape, 'float32', perm);
      assert.deepEqual(got.shape, want.shape, `shape of ${shape} by ${perm}`);
      assert.deepEqual(new Uint32Array(got.values.buffer), new Uint32Array(want.values.buffer), `${shape} by ${perm}`);
      n++;
    }
  }
  assert.ok(n > 150, `${n} cases`);
});

test('int32 and bool tensors transpose too', () => {
  const i = Int32Array.from({ length: 6 * 40 }, (_, k) => k * 7 - 300);
  assert.deepEqual(on('wasm', i, [6, 40], 'int32', [1, 0]).values, on('cpu', i, [6, 40], 'int32', [1, 0]).values);
  const b = Uint8Array.from({ length: 5 * 3 * 34 }, (_, k) => (k % 3 === 0 ? 1 : 0));
  assert.deepEqual(on('wasm', b, [5, 3, 34], 'bool', [2, 0, 1]).values, on('cpu', b, [5, 3, 34], 'bool', [2, 0, 1]).values);
});

test("the training step's shapes (NHWC→CHWN for filter gradients, matmul operands) equal the cpu backend", () => {
  for (const [shape, perm] of [[[16, 8, 8, 32], [3, 1, 2, 0]], [[512, 128], [1, 0]], [[16, 4, 4, 64], [1, 2, 0, 3]]] as const) {
    const size = shape.reduce((a, b) => a * b, 1);
    const f = Float32Array.from({ length: size }, (_, i) => Math.sin(i));
    const got = on('wasm', f, [...shape], 'float32', [...perm]);
    const want = on('cpu', f, [...shape], 'float32', [...perm]);
    assert.deepEqual(got.values, want.values, `${shape} by ${perm}`);
  }
});

test('collapsing merges axes that stay adjacent and drops size-1 axes', () => {
  assert.deepEqual(collapseTranspose([64, 16, 16, 32], [3, 1, 2, 0]), { shape: [64, 256, 32], perm: [2, 1, 0] });
  assert.deepEqual(collapseTranspose([64, 4, 4, 128], [1, 2, 0, 3]), { shape: [64, 16, 128], perm: [1, 0, 2] });
  assert.deepEqual(collapseTranspose([3, 1, 5], [2, 1, 0]), { shape: [3, 5], perm: [1, 0] });
  assert.deepEqual(collapseTranspose([2, 3, 4], [0, 1, 2]), { shape: [24], perm: [0] });
  assert.deepEqual(collapseTranspose([1, 1], [1, 0]), { shape: [], perm: [] });
});

test('a transposed matmul through it is unchanged (its gradient path)', () => {
  const a = tf.tensor2d(Float32Array.from({ length: 40 * 24 }, (_, i) => Math.cos(i)), [40, 24]);
  const b = tf.tensor2d(Float32Array.from({ length: 40 * 8 }, (_, i) => Math.sin(i)), [40, 8]);
  const got = tf.matMul(a, b, true, false).dataSync();
  const want = tf.matMul(tf.transpose(a), b).dataSync();
  assert.deepEqual(got, want);
  tf.dispose([a, b]);
});
