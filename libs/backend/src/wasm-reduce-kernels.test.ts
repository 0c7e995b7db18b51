// Tests the wasm Sum / Mean kernels (float64 accumulation) against float64 references, at the BatchNorm shapes of
// the document's DCGAN with data on which a float32 running sum (wasm's own kernel) is badly off, for every axis layout,
// keepDims, int32 fallback, through tf.grad, and for leaks.
// Run: node tools/run-tests.mjs libs/backend wasm-reduce
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { cancellingColumns, lcg } from './reduction-test-data';
import { wasmReduceKernelsRegistered } from './wasm-reduce-kernels';

/** Float64 column sums of [R, C]. */
function exactColumnSums(v: Float32Array, rows: number, cols: number): Float64Array {
  const s = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) s[c] += v[r * cols + c];
  return s;
}

/** Largest |got − exact| over the largest |exact| plus the float32 spacing at the inputs' scale. */
function worstError(got: ArrayLike<number>, exact: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < exact.length; i++) w = Math.max(w, Math.abs(got[i] - exact[i]));
  return w;
}

before(async () => {
  await initBackend('wasm');
});

test('registered by initBackend', () => {
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(wasmReduceKernelsRegistered());
});

test('BatchNorm-shaped sums over [B,H,W] are exact to float32 rounding where a float32 running sum is not', () => {
  // bn3 of the document's DCGAN at batch 4 and 16, and bn1 at batch 64.
  for (const shape of [[4, 32, 32, 128], [16, 32, 32, 128], [64, 8, 8, 512]]) {
    const cols = shape[3];
    const rows = shape[0] * shape[1] * shape[2];
    const v = cancellingColumns(rows, cols, rows + cols);
    const exact = exactColumnSums(v, rows, cols);
    // What wasm's own kernel does: one float32 accumulator per column, in row order.
    const running = new Float32Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) running[c] = Math.fround(running[c] + v[r * cols + c]);
    const got = tf.tidy(() => tf.sum(tf.tensor(v, shape), [0, 1, 2]).dataSync());
    const mean = tf.tidy(() => tf.mean(tf.tensor(v, shape), [0, 1, 2]).dataSync());
    // The results are O(1e-4); float32 rounding of such a value is ~1e-11. Allow 1e-9 absolute.
    const tol = 1e-9;
    assert.ok(worstError(running, exact) > 100 * tol, `the data must defeat a float32 running sum (${shape})`);
    assert.ok(worstError(got, exact) <= tol, `sum over [0,1,2] of [${shape}]: error ${worstError(got, exact)}`);
    assert.ok(worstError(mean, exact.map((s) => s / rows)) <= tol / rows + 1e-12, `mean of [${shape}]`);
  }
});

test('every axis layout, negative axes and keepDims give the float64 result in the right shape', () => {
  const shape = [3, 4, 5, 6];
  const v = lcg(360, 7);
  const at = (i: number, j: number, k: number, l: number) => v[((i * 4 + j) * 5 + k) * 6 + l];
  const cases: { axis: number | number[]; keepDims: boolean }[] = [
    { axis: [0, 1, 2], keepDims: false }, // leading
    { axis: [2, 3], keepDims: true }, // trailing
    { axis: [1], keepDims: false }, // middle: transposed first
    { axis: [0, 2], keepDims: true }, // scattered
    { axis: -1, keepDims: false },
    { axis: [3, 0], keepDims: false }, // unsorted
    { axis: [0, 1, 2, 3], keepDims: false }, // everything
  ];
  for (const { axis, keepDims } of cases) {
    const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + 4 : a)))];
    const outDims = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const want = new Float64Array(outDims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 5; k++) for (let l = 0; l < 6; l++) {
      const o = [i, j, k, l].map((x, d) => (axes.includes(d) ? 0 : x));
      want[((o[0] * outDims[1] + o[1]) * outDims[2] + o[2]) * outDims[3] + o[3]] += at(i, j, k, l);
    }
    const expectShape = keepDims ? outDims : shape.filter((_, i) => !axes.includes(i));
    const t = tf.sum(tf.tensor(v, shape), axis, keepDims);
    assert.deepEqual(t.shape, expectShape, `shape for axis ${JSON.stringify(axis)}`);
    const got = t.dataSync();
    t.dispose();
    for (let i = 0; i < want.length; i++) assert.equal(got[i], Math.fround(want[i]), `axis ${JSON.stringify(axis)} [${i}]`);
  }
});

test('int32 and bool inputs still go to wasm’s own kernels', () => {
  const s = tf.sum(tf.tensor([1, 2, 3, 4], [2, 2], 'int32'), 0);
  assert.equal(s.dtype, 'int32');
  assert.deepEqual(Array.from(s.dataSync()), [4, 6]);
  const m = tf.mean(tf.tensor([1, 2, 3, 4], [2, 2], 'int32'), 1);
  assert.deepEqual(Array.from(m.dataSync()), [1.5, 3.5]);
  tf.dispose([s, m]);
});

test('gradients through sum and mean, and no leaked wasm buffers', async () => {
  const before = tf.engine().backend.numDataIds();
  const x = tf.tensor(lcg(2 * 3 * 4, 3), [2, 3, 4]);
  const g = tf.grad((t: tf.Tensor) => tf.add(tf.sum(tf.sum(tf.square(t), [0, 2])), tf.sum(tf.mean(t, 1))))(x);
  const xs = x.dataSync();
  const gs = g.dataSync();
  for (let i = 0; i < xs.length; i++) assert.ok(Math.abs(gs[i] - (2 * xs[i] + 1 / 3)) < 1e-6, `d/dx[${i}]`);
  tf.dispose([x, g]);
  for (let i = 0; i < 3; i++) tf.tidy(() => {
    tf.sum(tf.tensor(lcg(120, i), [2, 3, 4, 5]), [1, 3]);
  });
  assert.equal(tf.engine().backend.numDataIds(), before);
});
