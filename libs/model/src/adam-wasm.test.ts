// The Adam kernel (wasm/adam.wat) computes what a plain float64 JS loop computes, bit for bit, including the
// padding lanes and the finiteness scan.
// Run: node --import tsx --test libs/model/src/adam-wasm.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdamKernel } from './adam-wasm';

/** The update as scalar JS (float64 arithmetic on float32 storage), the oracle for the SIMD kernel. */
function reference(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, c: number[]): void {
  const [b1, a1, b2, a2, stepSize, bc2, eps] = c;
  for (let i = 0; i < w.length; i++) {
    m[i] = b1 * m[i] + a1 * g[i];
    v[i] = b2 * v[i] + a2 * g[i] * g[i];
    w[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2 + eps);
  }
}

function randoms(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

test('step equals the scalar float64 loop to the bit over several steps, for lengths that are not multiples of 4', () => {
  for (const n of [1, 3, 4, 7, 1001]) {
    const k = createAdamKernel(n);
    const w = randoms(n, 1, 0.1);
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    k.w.set(w);
    for (let t = 1; t <= 5; t++) {
      const g = randoms(n, 10 + t, t === 3 ? 1e-30 : 1e-2); // one step of denormal-sized squares
      if (n > 2) g[2] = 0;
      const c = [0.5, 0.5, 0.999, 1 - 0.999, 2e-4 / (1 - 0.5 ** t), Math.sqrt(1 - 0.999 ** t), 1e-8];
      k.g.set(g);
      k.step(c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
      reference(w, m, v, g, c);
    }
    assert.deepEqual(Buffer.from(k.w.buffer, k.w.byteOffset, 4 * n), Buffer.from(w.buffer), `w, n=${n}`);
    assert.deepEqual(Buffer.from(k.m.buffer, k.m.byteOffset, 4 * n), Buffer.from(m.buffer), `m, n=${n}`);
    assert.deepEqual(Buffer.from(k.v.buffer, k.v.byteOffset, 4 * n), Buffer.from(v.buffer), `v, n=${n}`);
    assert.ok(w.some((x, i) => x !== randoms(n, 1, 0.1)[i]), 'the weights moved');
  }
});

test('firstNonFinite finds the first NaN or ±Inf and passes every finite value', () => {
  const k = createAdamKernel(10);
  k.g.set([0, -0, 3.4e38, -3.4e38, 1e-45, 1, 2, 3, 4, 5]);
  assert.equal(k.firstNonFinite(), -1);
  for (const [i, bad] of [[9, NaN], [5, Infinity], [0, -Infinity], [6, NaN]] as const) {
    k.g.fill(1);
    k.g[i] = bad;
    if (i === 6) k.g[8] = Infinity;
    assert.equal(k.firstNonFinite(), i, `${bad} at ${i}`);
  }
});

test('a model too large for one wasm memory is refused with a one-line error', () => {
  assert.throws(() => createAdamKernel(2 ** 28 + 4), /need 4\.0 GiB of optimizer memory, more than WebAssembly's 4 GiB/);
});
