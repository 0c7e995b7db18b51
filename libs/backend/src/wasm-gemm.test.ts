// @gan/backend's SIMD GEMM (wasm/gemm.wat through ./wasm-gemm), as the wasm BatchMatMul kernel runs it: for every
// route (4×8 tiles and their ragged edges, the few-columns kernel, A and/or B transposed, k = 1, one row) its bits
// equal XNNPACK's product of the same operands laid out untransposed, and a plain float32 loop that adds each
// output's terms in increasing k. Run: node tools/run-tests.mjs libs/backend wasm-gemm
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { gemm } from './wasm-gemm';
import { xnnMatMul } from './wasm-matmul-kernel';

before(async () => {
  await initBackend('wasm', undefined, { threads: 1 });
});

/** Values of several magnitudes and signs, with exact zeros of both signs: where a changed order shows in the bits. */
function values(n: number, seed: number): Float32Array {
  const v = tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', seed).dataSync() as Float32Array).slice();
  for (let i = 0; i < n; i++) {
    if (i % 11 === 3) v[i] = 0;
    else if (i % 13 === 5) v[i] = -0;
    else v[i] *= 10 ** ((i % 7) - 3);
  }
  return v;
}

/** out[i, j] = Σ_k op(A)[i, k]·op(B)[k, j], each step rounded to float32, k increasing from 0. */
function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number, ta: boolean, tb: boolean): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc = Math.fround(acc + Math.fround((ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j])));
      out[i * n + j] = acc;
    }
  }
  return out;
}

function firstDifference(got: Float32Array, want: Float32Array): string | null {
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) return `index ${i}: ${got[i]} vs ${want[i]}`;
  return null;
}

// [m, k, n]: whole 4×8 tiles; ragged rows and columns (n % 8 ≥ 4 and < 4); few columns (n < 8) with ragged rows;
// k = 1; a single row; the MLP's layer shapes (hidden 128, batch 256 and 512, 2-D data, nz 100).
const SHAPES: [number, number, number][] = [
  [8, 16, 16], [7, 13, 11], [6, 5, 13], [33, 17, 6], [9, 4, 1], [5, 3, 2], [12, 1, 20], [1, 70, 12], [1, 1, 1],
  [256, 100, 128], [512, 128, 1], [512, 2, 128], [128, 512, 2], [2, 512, 128],
];

test('GEMM: bits equal XNNPACK and the in-order float32 loop, for A and B each as stored or transposed', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend();
  for (const [m, k, n] of SHAPES) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const what = `[${m}, ${k}]${ta ? 'ᵀ' : ''} · [${k}, ${n}]${tb ? 'ᵀ' : ''}`;
        const a = values(m * k, m * 31 + k);
        const b = values(k * n, n * 17 + k);
        const got = tf.tidy(() => tf.matMul(tf.tensor(a, ta ? [k, m] : [m, k]), tf.tensor(b, tb ? [n, k] : [k, n]), ta, tb).dataSync() as Float32Array).slice();
        const xnn = tf.tidy(() => {
          const at = ta ? tf.transpose(tf.tensor(a, [k, m])) : tf.tensor(a, [m, k]);
          const bt = tb ? tf.transpose(tf.tensor(b, [n, k])) : tf.tensor(b, [k, n]);
          const info = xnnMatMul(backend, at, bt);
          return tf.engine().makeTensorFromTensorInfo(info).dataSync() as Float32Array;
        }).slice();
        assert.equal(firstDifference(got, xnn), null, `${what}: ours vs XNNPACK`);
        assert.equal(firstDifference(got, reference(a, b, m, k, n, ta, tb)), null, `${what}: ours vs the in-order loop`);
        const direct = new Float32Array(m * n);
        gemm(a, b, direct, { m, k, n, transposeA: ta, transposeB: tb });
        assert.equal(firstDifference(direct, got), null, `${what}: gemm() vs the kernel`);
      }
    }
  }
});

test('GEMM: a NaN or infinity in an operand reaches the outputs that use it, and only those', async () => {
  const [m, k, n] = [9, 6, 10];
  for (const bad of [NaN, Infinity]) {
    const a = values(m * k, 1);
    const b = values(k * n, 2);
    a[2 * k + 3] = bad; // row 2 of A
    const out = new Float32Array(m * n);
    gemm(a, b, out, { m, k, n, transposeA: false, transposeB: false });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) assert.equal(Number.isFinite(out[i * n + j]), i !== 2, `${bad} at [${i}, ${j}]`);
    }
  }
});

test('GEMM: shapes that do not fit the arrays are refused with one line', () => {
  assert.throws(() => gemm(new Float32Array(5), new Float32Array(6), new Float32Array(6), { m: 2, k: 3, n: 2, transposeA: false, transposeB: false }), /gemm: arrays too short for \[2, 3\]·\[3, 2\]/);
  assert.throws(() => gemm(new Float32Array(1), new Float32Array(1), new Float32Array(1), { m: 0, k: 1, n: 1, transposeA: false, transposeB: false }), /gemm: m must be a positive integer, got 0/);
});
