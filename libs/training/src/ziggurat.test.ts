// Tests for the ziggurat normal sampler against the standard normal distribution itself: the Kolmogorov–Smirnov
// distance to Φ (computed here from erfc, independently of the sampler's tables), the mass beyond the tail start
// and beyond 4σ, and the first four moments.
// Run: node tools/run-tests.mjs libs/training ziggurat
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '@gan/data';
import { fillNormal, zigguratNormal } from './ziggurat';

/** erfc(x) by its continued-fraction-free Chebyshev fit (Numerical Recipes' erfcc, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}
const cdf = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);

/** Checks `z` against N(0, 1); the bounds are about 4.5 standard errors wide, so a correct sampler fails ~1e-5. */
function assertStandardNormal(z: Float32Array | Float64Array, what: string): void {
  const n = z.length;
  const sorted = Float64Array.from(z).sort();
  let ks = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]);
    ks = Math.max(ks, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
  }
  // Kolmogorov's limit: P(√n·D > 1.95) ≈ 0.001; 2.2 leaves room for a 1e-4 false-alarm rate.
  assert.ok(ks * Math.sqrt(n) < 2.2, `${what}: KS distance ${ks} (√n·D = ${(ks * Math.sqrt(n)).toFixed(2)})`);
  const tailCount = (c: number): number => {
    let count = 0;
    for (const v of z) if (Math.abs(v) > c) count++;
    return count;
  };
  for (const c of [3.442619855899, 4]) {
    const p = 2 * (1 - cdf(c));
    const expected = n * p;
    const got = tailCount(c);
    assert.ok(Math.abs(got - expected) < 4.5 * Math.sqrt(expected) + 1, `${what}: ${got} beyond ±${c}, expected ${expected.toFixed(1)}`);
  }
  let m1 = 0;
  for (const v of z) m1 += v;
  m1 /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const v of z) {
    const d = v - m1;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  assert.ok(Math.abs(m1) < 4.5 / Math.sqrt(n), `${what}: mean ${m1}`);
  assert.ok(Math.abs(m2 - 1) < 4.5 * Math.sqrt(2 / n), `${what}: variance ${m2}`);
  assert.ok(Math.abs(m3) < 4.5 * Math.sqrt(6 / n), `${what}: third moment ${m3}`);
  assert.ok(Math.abs(m4 / (m2 * m2) - 3) < 4.5 * Math.sqrt(96 / n), `${what}: kurtosis ${m4 / (m2 * m2)}`);
}

test('zigguratNormal draws a standard normal', () => {
  const rng = new Rng(12345);
  const z = new Float64Array(400_000);
  for (let i = 0; i < z.length; i++) z[i] = zigguratNormal(rng);
  assertStandardNormal(z, 'zigguratNormal');
});

test('fillNormal draws a standard normal over many short fresh streams, as batchNoise uses it', () => {
  const z = new Float32Array(400_000);
  for (let r = 0; r < z.length / 100; r++) fillNormal(z, new Rng(r * 7919 + 1), r * 100, (r + 1) * 100);
  assertStandardNormal(z, 'fillNormal');
});

test('fillNormal writes only [start, end) and is a pure function of the stream', () => {
  const a = new Float32Array(30).fill(9);
  fillNormal(a, new Rng(5), 10, 20);
  assert.ok(a.subarray(0, 10).every((v) => v === 9) && a.subarray(20).every((v) => v === 9));
  assert.ok(a.subarray(10, 20).every((v) => v !== 9 && Number.isFinite(v)));
  const b = new Float32Array(10);
  fillNormal(b, new Rng(5));
  assert.deepEqual(b, a.subarray(10, 20));
});

test('a sampler that mishandles the tail is caught: cutting values at ±3.44 fails the check', () => {
  const rng = new Rng(99);
  const z = new Float64Array(400_000);
  for (let i = 0; i < z.length; i++) z[i] = Math.max(-3.44, Math.min(3.44, zigguratNormal(rng)));
  assert.throws(() => assertStandardNormal(z, 'clipped'), /beyond/);
});
