/**
 * The k4 s2 p1 conv and conv-transpose match PyTorch's definitions (naive loops written from them), and the
 * portable weight gradient (used on wasm, which lacks Conv2DBackpropFilter) equals the native one.
 * Run: node tools/run-tests.mjs libs/model conv
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { conv4s2, convT4s2, setConvGradImpl } from './conv';
import { lcgArray, useCpu } from './test-helpers';

before(useCpu);
after(() => setConvGradImpl('auto'));

/** PyTorch Conv2d(k4,s2,p1), NHWC, w[a][b][ci][co]: out[n,i,j,co] = Σ x[n, 2i-1+a, 2j-1+b, ci]·w (0 outside). */
function naiveConv(x: Float32Array, [n, h, w, ci]: number[], wt: Float32Array, co: number): Float64Array {
  const ho = h / 2;
  const wo = w / 2;
  const out = new Float64Array(n * ho * wo * co);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let o = 0; o < co; o++) {
          let s = 0;
          for (let a = 0; a < 4; a++)
            for (let c = 0; c < 4; c++) {
              const y = 2 * i - 1 + a;
              const xx = 2 * j - 1 + c;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              for (let k = 0; k < ci; k++) s += x[((b * h + y) * w + xx) * ci + k] * wt[((a * 4 + c) * ci + k) * co + o];
            }
          out[((b * ho + i) * wo + j) * co + o] = s;
        }
  return out;
}

/** PyTorch ConvTranspose2d(k4,s2,p1) as its scatter definition: out[n, 2i-1+a, 2j-1+b, co] += x[n,i,j,ci]·w[a][b][co][ci]. */
function naiveConvT(x: Float32Array, [n, h, w, ci]: number[], wt: Float32Array, co: number): Float64Array {
  const ho = 2 * h;
  const wo = 2 * w;
  const out = new Float64Array(n * ho * wo * co);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let a = 0; a < 4; a++)
          for (let c = 0; c < 4; c++) {
            const y = 2 * i - 1 + a;
            const xx = 2 * j - 1 + c;
            if (y < 0 || y >= ho || xx < 0 || xx >= wo) continue;
            for (let o = 0; o < co; o++)
              for (let k = 0; k < ci; k++)
                out[((b * ho + y) * wo + xx) * co + o] += x[((b * h + i) * w + j) * ci + k] * wt[((a * 4 + c) * co + o) * ci + k];
          }
  return out;
}

function assertClose(got: Float32Array | Float64Array, want: Float32Array | Float64Array, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  assert.ok(worst <= tol, `${what}: max abs diff ${worst} > ${tol}`);
}

describe('conv4s2 / convT4s2 (PyTorch k4 s2 p1 semantics)', () => {
  const shape = [2, 6, 8, 3];
  const x = lcgArray(2 * 6 * 8 * 3, 1);

  it('conv4s2 halves the size and matches the naive PyTorch Conv2d', () => {
    const wt = lcgArray(4 * 4 * 3 * 5, 2);
    const y = tf.tidy(() => conv4s2(tf.tensor4d(x, shape as [number, number, number, number]), tf.tensor4d(wt, [4, 4, 3, 5])));
    assert.deepEqual(y.shape, [2, 3, 4, 5]);
    assertClose(y.dataSync() as Float32Array, naiveConv(x, shape, wt, 5), 1e-5, 'conv');
    y.dispose();
  });

  it('convT4s2 doubles the size and matches the naive PyTorch ConvTranspose2d', () => {
    const wt = lcgArray(4 * 4 * 5 * 3, 3);
    const y = tf.tidy(() => convT4s2(tf.tensor4d(x, shape as [number, number, number, number]), tf.tensor4d(wt, [4, 4, 5, 3])));
    assert.deepEqual(y.shape, [2, 12, 16, 5]);
    assertClose(y.dataSync() as Float32Array, naiveConvT(x, shape, wt, 5), 1e-5, 'convT');
    y.dispose();
  });

  it('rejects odd spatial sizes for conv4s2', () => {
    assert.throws(() => tf.tidy(() => conv4s2(tf.zeros([1, 5, 4, 1]), tf.zeros([4, 4, 1, 1]))), /must be even/);
  });

  for (const op of ['conv', 'convT'] as const) {
    it(`${op}: portable weight/input gradients equal the native ones`, () => {
      const xs = op === 'conv' ? shape : [2, 3, 4, 3];
      const ws = op === 'conv' ? [4, 4, 3, 5] : [4, 4, 5, 3];
      const f = op === 'conv' ? conv4s2 : convT4s2;
      const grads = (impl: 'native' | 'portable'): Float32Array[] => {
        setConvGradImpl(impl);
        return tf.tidy(() => {
          const xt = tf.tensor4d(lcgArray(xs.reduce((a, b) => a * b), 4), xs as [number, number, number, number]);
          const wt = tf.tensor4d(lcgArray(ws.reduce((a, b) => a * b), 5), ws as [number, number, number, number]);
          const yShape = f(xt, wt).shape;
          const r = tf.tensor(lcgArray(yShape.reduce((a, b) => a * b), 6), yShape);
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), r)))([xt, wt]);
          return g.map((t) => t.dataSync() as Float32Array);
        });
      };
      const [nx, nw] = grads('native');
      const [px, pw] = grads('portable');
      setConvGradImpl('auto');
      assertClose(px, nx, 1e-5, 'dx');
      assertClose(pw, nw, 1e-4, 'dw');
      assert.ok(nw.some((v) => Math.abs(v) > 1e-3), 'non-trivial gradient');
    });
  }
});
