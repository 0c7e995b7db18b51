// readInto / readIntoSync (./read-into) give a tensor's values, as data() does, in the caller's array: on cpu and
// wasm (and webgpu where an adapter exists, skipped otherwise), for a tensor a kernel made and one made from host
// values, leaving the array's tail alone; a short array or another dtype is a one-line error.
// Run: node tools/run-tests.mjs libs/backend read-into
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './init-backend';
import { readInto, readIntoSync } from './read-into';
import { startWebgpu } from './webgpu-test-support';

/** A tensor a kernel computed (big enough for webgpu to run it on the GPU) and one straight from host values. */
function cases(): tf.Tensor[] {
  const host = tf.tensor(Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i)));
  return [tf.tidy(() => tf.mul(host, 3)), host];
}

async function check(backend: string, sync: boolean): Promise<void> {
  for (const t of cases()) {
    const want = (await t.data()) as Float32Array;
    // Read again from the device: data() above may have left a host copy behind.
    const fresh = tf.tidy(() => tf.add(t, 0));
    const dest = new Float32Array(t.size + 5).fill(-7);
    if (sync) readIntoSync(fresh, dest);
    else await readInto(fresh, dest);
    assert.deepEqual(dest.subarray(0, t.size), want, `${backend}${sync ? ' sync' : ''}`);
    assert.deepEqual([...dest.subarray(t.size)], [-7, -7, -7, -7, -7], 'the tail is left alone');
    await assert.rejects(readInto(fresh, new Float32Array(t.size - 1)), /readInto: dest must be a Float32Array of at least 3000 values, got 2999/);
    tf.dispose([t, fresh]);
  }
  const ints = tf.tensor([1, 2], [2], 'int32');
  assert.throws(() => readIntoSync(ints, new Float32Array(2)), /the tensor must be float32, got int32/);
  ints.dispose();
}

test('cpu and wasm: the values, synchronously and not', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    await check(backend, true);
    await check(backend, false);
  }
});

test('webgpu: the values, through a staging buffer', async (t) => {
  const missing = await startWebgpu();
  if (missing) return t.skip(missing);
  await check('webgpu', false);
});
