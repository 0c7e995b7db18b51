// uploadNow (./webgpu-upload) on webgpu: a tensor made from a plain or a shared array is on the GPU at once with the
// array's values, and later changes to the array do not reach it; a tensor already on the GPU, and a backend other
// than webgpu, are left alone. Skips with a message where no WebGPU adapter exists.
// Run: node tools/run-tests.mjs libs/backend webgpu-upload
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './init-backend';
import { uploadNow } from './webgpu-upload';
import { startWebgpu } from './webgpu-test-support';

let missing: string | null = null;

before(async () => {
  missing = await startWebgpu();
});

test('webgpu: a tensor from a plain or a shared array is uploaded at once and keeps the values it was made with', async (t) => {
  if (missing) return t.skip(missing);
  for (const buffer of [new ArrayBuffer(4 * 3000), new SharedArrayBuffer(4 * 3000)]) {
    const values = new Float32Array(buffer, 4 * 1000, 1500).map((_, i) => i * 0.5 - 3);
    const want = values.slice();
    const x = tf.tensor(values, [30, 50]);
    assert.equal(uploadNow(x), true, buffer.constructor.name);
    assert.equal(uploadNow(x), false, 'already on the GPU');
    values.fill(9);
    assert.deepEqual(await x.data(), want, buffer.constructor.name);
    // It is a GPU tensor like any other: a kernel reads it.
    assert.equal((await tf.sum(x).data())[0], want.reduce((a, b) => a + b, 0));
    x.dispose();
  }
});

test('other backends: nothing to do', async () => {
  await initBackend('cpu');
  const x = tf.tensor([1, 2, 3]);
  assert.equal(uploadNow(x), false);
  x.dispose();
});
