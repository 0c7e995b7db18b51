// The SIMD add kernel gives exactly the float32 sums of the plain loop, for every length and alignment.
// Run: node tools/run-tests.mjs libs/collective simd-add
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addInto, divideBy, simdAvailable } from './simd-add';

test('addInto equals Math.fround(a + b) element-wise, any length and offset', () => {
  assert.ok(simdAvailable(), 'WebAssembly SIMD should be available on Node 20');
  for (const n of [0, 1, 3, 255, 256, 257, 1023, 100_003]) {
    const big = Float32Array.from({ length: n + 3 }, (_, i) => Math.sin(i) * 1e3);
    const src = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 7) * 1e-2);
    const dst = big.subarray(1, n + 1); // unaligned for a Float64 view, aligned for Float32
    const want = Float32Array.from(dst, (x, i) => Math.fround(x + src[i]));
    addInto(dst, src);
    assert.deepEqual(dst, want, `n=${n}`);
    assert.equal(big[0], Math.fround(Math.sin(0) * 1e3));
    assert.equal(big[n + 1], Math.fround(Math.sin(n + 1) * 1e3), 'wrote past the end');
  }
});

test('divideBy equals Math.fround(a / n) element-wise', () => {
  for (const n of [1, 5, 300, 4099]) {
    for (const d of [2, 3, 7]) {
      const v = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 4));
      const want = Float32Array.from(v, (x) => Math.fround(x / d));
      divideBy(v, d);
      assert.deepEqual(v, want, `n=${n} d=${d}`);
    }
  }
});
