// The webgpu counters the speed bench reports (bench/webgpu-counters.ts) count what tfjs-backend-webgpu really does:
// known ops give known dispatches, uploads and read-backs, stop() puts the backend back as it was, and a product
// step on webgpu comes back with its counts. Needs a WebGPU adapter (lavapipe will do: bash tools/lavapipe.sh);
// skips with a message without one. Run: node tools/run-tests.mjs bench webgpu-counters
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { BN_KERNELS, initBackend } from '@gan/backend';
import { buildGan, disposeGan, paramCount, setFlatWeights, syncHostCopies } from '@gan/model';
import { parseCases, timeProductStep } from './product-step';
import { countWebgpu } from './webgpu-counters';

let noAdapter: string | null = null;

before(async () => {
  try {
    await initBackend('webgpu');
  } catch (e) {
    noAdapter = `${(e as Error).message} (install lavapipe: bash tools/lavapipe.sh)`;
  }
});

test('an add of two uploaded tensors is 1 dispatch and 2 uploads; reading it is 1 read-back of its bytes, once', async (t) => {
  if (noAdapter) return t.skip(noAdapter);
  // Above WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD (1000 values), so the add runs on the GPU, not on tfjs's CPU kernel.
  const n = 4096;
  const a = tf.tensor1d(Float32Array.from({ length: n }, (_, i) => i));
  const b = tf.tensor1d(new Float32Array(n).fill(1));
  const backend = tf.backend();
  const c = countWebgpu(backend);
  try {
    const s = tf.add(a, b);
    assert.equal(c.totals.dispatches, 1);
    assert.equal(c.totals.uploads, 2);
    assert.equal(c.totals.bytesUploaded, 2 * 4 * n);
    assert.equal(c.totals.readbacks, 0, 'nothing read yet');
    const v = await s.data();
    assert.equal(v[n - 1], n, 'the add really ran');
    assert.deepEqual([c.totals.readbacks, c.totals.bytesRead], [1, 4 * n]);
    await s.data();
    assert.equal(c.totals.readbacks, 1, 'a second read answers from the host copy');
    s.dispose();
  } finally {
    c.stop();
  }
  assert.ok(!Object.hasOwn(backend, 'uploadToGPU') && !Object.hasOwn(backend, 'readSync'), 'stop() removes the wrappers');
  const before = { ...c.totals };
  tf.add(a, b).dispose();
  assert.deepEqual(c.totals, before, 'nothing is counted after stop()');
  a.dispose();
  b.dispose();
});

test('a program with two outputs (BatchNorm\'s running statistics) is counted as the 1 dispatch it is', async (t) => {
  if (noAdapter) return t.skip(noAdapter);
  const C = 2048;
  const table = tf.tensor2d(Float32Array.from({ length: 5 * C }, (_, i) => (i % 7) + 1), [5, C]);
  const mean = tf.fill([C], 1);
  const variance = tf.fill([C], 2);
  const c = countWebgpu(tf.backend());
  try {
    const [m, v] = tf.engine().runKernel(BN_KERNELS.running, { table, mean, variance }, { n: 5, momentum: 0.5 }) as unknown as tf.Tensor[];
    assert.equal(c.totals.dispatches, 1);
    // 1·0.5 + table[0]·0.5; 2·0.5 + (table[C]·5/4)·0.5, table[C] = (C % 7) + 1 = 5.
    assert.deepEqual([(await m.data())[0], (await v.data())[0]], [1, 4.125]);
    tf.dispose([m, v]);
  } finally {
    c.stop();
  }
  tf.dispose([table, mean, variance]);
});

test('a weight written by setFlatWeights is 1 upload of its bytes, at once, and reads back as written', async (t) => {
  if (noAdapter) return t.skip(noAdapter);
  const gan = buildGan(parseCases('mlp/8')[0].model, 1);
  try {
    await syncHostCopies(gan.g);
    const n = paramCount(gan.g);
    // In a SharedArrayBuffer, as the optimisers' weights are (Dawn's binding cannot write from one directly).
    const w = new Float32Array(new SharedArrayBuffer(4 * n)).map((_, i) => i / n);
    const c = countWebgpu(tf.backend());
    try {
      setFlatWeights(gan.g, w);
      assert.deepEqual([c.totals.uploads, c.totals.bytesUploaded], [gan.g.params.length, 4 * n]);
    } finally {
      c.stop();
    }
    w.fill(7); // the weights were copied out when written: changing the array now changes nothing
    const back = await Promise.all(gan.g.params.map((p) => p.variable.data()));
    assert.deepEqual(Float32Array.from(back.flatMap((a) => [...a])), new Float32Array(n).map((_, i) => i / n));
  } finally {
    disposeGan(gan);
  }
});

test('a timed product step of a small MLP on webgpu reports its dispatches and read-backs', async (t) => {
  if (noAdapter) return t.skip(noAdapter);
  const [c] = parseCases('mlp/8');
  // One warm-up step: the first step uploads less (the initial weights are on the GPU already; later Adam's are not).
  const r = await timeProductStep(c, { steps: 2, warmup: 1 });
  const k = r.counts!;
  assert.ok(k, 'counts on webgpu');
  assert.equal(r.countsSteady, true, 'every step dispatches and reads the same');
  assert.ok(k.dispatches > 0 && k.readbacks > 0 && k.bytesRead > 0 && k.submits >= k.readbacks, JSON.stringify(k));
  assert.ok(!Object.hasOwn(tf.backend(), 'uploadToGPU'), 'the backend is left unwrapped');
});
