// The SIMD column-sum kernel gives the bits of the JS loop it stands in for (same float64 additions in the same
// order), on row counts with and without a remainder of four, values of mixed magnitude and sign, and a non-zero
// starting accumulator; it refuses widths that are not whole vectors.
// Run: node tools/run-tests.mjs libs/backend wasm-sum-leading
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sumLeading } from './wasm-reduce-kernels';
import { simdSumLeading, simdSumLeadingFits } from './wasm-sum-leading';

/** Deterministic float32 values spanning ~12 orders of magnitude, both signs (xorshift32). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), (s >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, () => (next() - 0.5) * 10 ** Math.floor(next() * 12 - 6));
}

test('SIMD column sums equal the JS loop bit for bit', () => {
  for (const [outer, inner] of [[1, 4], [3, 8], [4, 4], [7, 12], [64, 128], [1027, 32], [16 * 16 * 16, 256]]) {
    const x = values(outer * inner, outer * 31 + inner);
    const start = Float64Array.from(values(inner, 7), (v) => v * 3);
    const want = start.slice();
    sumLeading(x, outer, inner, want);
    const got = start.slice();
    simdSumLeading(x, outer, inner, got);
    for (let c = 0; c < inner; c++) assert.ok(Object.is(got[c], want[c]), `[${outer}, ${inner}] column ${c}: ${got[c]} vs ${want[c]}`);
  }
});

test('widths that are not whole vectors are refused, and the kernel reads only what it is given', () => {
  assert.equal(simdSumLeadingFits(6), false);
  assert.throws(() => simdSumLeading(new Float32Array(12), 2, 6, new Float64Array(6)), /inner 6 is not a positive multiple of 4/);
  assert.throws(() => simdSumLeading(new Float32Array(7), 2, 4, new Float64Array(4)), /arrays too short for \[2, 4\]/);
  const big = new Float32Array(16).fill(1);
  const acc = new Float64Array(4);
  simdSumLeading(big.subarray(0, 8), 2, 4, acc);
  assert.deepEqual([...acc], [2, 2, 2, 2]);
});
