// The webgpu Sum replacement (the BatchNorm kernels' channel sum): over every axis but the last it is close to the
// float64 sum on data that defeats a float32 running sum, every other reduction still goes to webgpu's own kernel
// with the right values and shape, and gradients flow through it. The BatchNorm kernels themselves are checked in
// libs/model (batch-norm.test.ts, against the op form on cpu). Skips with a message where no WebGPU adapter exists.
// Run: node tools/run-tests.mjs libs/backend webgpu-batch-norm
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { cancellingColumns, lcg } from './reduction-test-data';
import { startWebgpu } from './webgpu-test-support';

let missing: string | null = null;

before(async () => {
  missing = await startWebgpu();
});

function worst(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]));
  return w;
}

test('Sum over [B,H,W] of BatchNorm-shaped data is near the float64 sum where a float32 running sum is not', async (t) => {
  if (missing) return t.skip(missing);
  for (const shape of [[4, 32, 32, 128], [16, 32, 32, 128], [64, 8, 8, 500]]) {
    const cols = shape[3];
    const rows = shape[0] * shape[1] * shape[2];
    const v = cancellingColumns(rows, cols, rows + cols);
    const exact = new Float64Array(cols);
    const running = new Float32Array(cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        exact[c] += v[r * cols + c];
        running[c] = Math.fround(running[c] + v[r * cols + c]);
      }
    }
    const x = tf.tensor(v, shape);
    const s = tf.sum(x, [0, 1, 2]);
    assert.deepEqual(s.shape, [cols]);
    const got = await s.data();
    tf.dispose([x, s]);
    assert.ok(worst(got, exact) * 1000 < worst(running, exact), `[${shape}]: error ${worst(got, exact)}, a float32 running sum's ${worst(running, exact)}`);
  }
});

test('other reductions go to webgpu\'s own Sum with the right values and shape; gradients flow through both', async (t) => {
  if (missing) return t.skip(missing);
  const shape = [3, 4, 5, 6];
  const v = lcg(360, 7);
  const cases: { axis: number | number[]; keepDims: boolean }[] = [
    { axis: [0, 1, 2], keepDims: false }, // ours
    { axis: [0, 1, 2], keepDims: true },
    { axis: [2, 3], keepDims: false },
    { axis: [1], keepDims: false },
    { axis: [2, 1, 0], keepDims: false }, // unsorted leading: still every axis but the last
    { axis: [0, 1, 2, 3], keepDims: false },
  ];
  for (const { axis, keepDims } of cases) {
    const axes = [...new Set(Array.isArray(axis) ? axis : [axis])];
    const outDims = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const want = new Float64Array(outDims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < 360; i++) {
      const coord = [Math.floor(i / 120), Math.floor(i / 30) % 4, Math.floor(i / 6) % 5, i % 6].map((x, d) => (axes.includes(d) ? 0 : x));
      want[((coord[0] * outDims[1] + coord[1]) * outDims[2] + coord[2]) * outDims[3] + coord[3]] += v[i];
    }
    const x = tf.tensor(v, shape);
    const s = tf.sum(x, axis, keepDims);
    assert.deepEqual(s.shape, keepDims ? outDims : shape.filter((_, i) => !axes.includes(i)), `shape, axis ${JSON.stringify(axis)}`);
    const got = await s.data();
    tf.dispose([x, s]);
    assert.ok(worst(got, want) < 1e-5, `axis ${JSON.stringify(axis)} keepDims ${keepDims}: error ${worst(got, want)}`);
  }
  // d/dx Σ_{b,h,w} x·w = w summed over nothing: the weight itself, broadcast back by Sum's gradient.
  const x = tf.tensor(v, shape);
  const w = tf.tensor(lcg(6, 9), [6]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.sum(a, [0, 1, 2]), w)))(x);
  const gv = await g.data();
  const wv = await w.data();
  tf.dispose([x, w, g]);
  for (let i = 0; i < 360; i++) assert.equal(gv[i], wv[i % 6], `gradient [${i}]`);
});
