// Tests the threaded-SIMD wasm build under Node (wasm-threads.ts): 2 XNNPACK threads start, conv gradients still
// match the cpu backend, and the process can exit (node --test would time out on ref'd pool workers).
// Run: node tools/run-tests.mjs libs/backend wasm-threads
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo, describeBackend, initBackend } from './index';

test('wasm with 2 threads starts and computes conv gradients like cpu', async () => {
  await initBackend('cpu');
  const choice = await initBackend('wasm', undefined, { threads: 2 });
  assert.equal(choice.name, 'wasm');
  assert.equal(backendInfo().threads, 2);
  assert.equal(describeBackend(), backendInfo().simd ? 'wasm (SIMD, 2 threads)' : 'wasm (no SIMD, 2 threads)');
  const xv = tf.tidy(() => tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1).dataSync().slice());
  const fv = tf.tidy(() => tf.randomNormal([4, 4, 3, 5], 0, 1, 'float32', 2).dataSync().slice());
  const run = async (b: string) => {
    await tf.setBackend(b);
    const outs = tf.tidy(() => {
      const x = tf.tensor4d(xv, [2, 8, 8, 3]);
      const f = tf.tensor4d(fv, [4, 4, 3, 5]);
      return tf.grads((a: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, 1))))([x, f]);
    });
    const vals = outs.map((t) => t.dataSync().slice());
    tf.dispose(outs);
    return vals;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  cpu.forEach((c, i) => {
    let num = 0;
    let den = 0;
    c.forEach((v, k) => {
      num = Math.max(num, Math.abs(v - wasm[i][k]));
      den = Math.max(den, Math.abs(v));
    });
    assert.ok(num / den <= 1e-4, `gradient ${i}: rel err ${num / den}`);
  });
});
