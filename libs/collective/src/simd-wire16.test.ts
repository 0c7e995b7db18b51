// The 16-bit wire SIMD kernels against the scalar reference of wire-format.ts, bit for bit: every fp16/bf16 pattern
// for the decoders, and random plus hand-picked float32 patterns (every exponent with the rounding edge cases of
// both formats, subnormals, zeros, Inf, quiet and signalling NaNs of both signs) for the encoders and quantizers.
// Run: node tools/run-tests.mjs libs/collective simd-wire16
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simdDecode16, simdEncode16, simdQuantize16, wire16SimdAvailable } from './simd-wire16';
import { f16Table32, f32BitsToBf16, f32BitsToF16 } from './wire-format';

const WIRES = ['fp16', 'bf16'] as const;

/** Random float32 bit patterns, then every exponent x sign x the mantissas where fp16/bf16 rounding turns. */
function patterns(random: number): Uint32Array {
  const out: number[] = [];
  let s = 0x2545f491;
  for (let i = 0; i < random; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out.push(s >>> 0);
  }
  const mants = [0, 1, 2, 0xfff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x3000, 0x7fff, 0x8000, 0x8001, 0x17fff, 0x18000, 0x18001, 0x3fffff, 0x400000, 0x400001, 0x7fe000, 0x7fefff, 0x7ff000, 0x7fffff];
  for (let e = 0; e < 256; e++) for (const m of mants) for (const sign of [0, 0x80000000]) out.push((sign | (e << 23) | m) >>> 0);
  // fp16 subnormal ties and near-ties: k * 2^-25 (+-1 ulp) for small k, i.e. halfway between fp16 subnormals
  for (let k = 1; k < 2100; k++) {
    const b = new Uint32Array(new Float32Array([k * 2 ** -25]).buffer)[0];
    out.push(b - 1, b, b + 1);
  }
  // pad so the count is a multiple of 8 (the kernels' unit)
  while (out.length % 8) out.push(0x7fc00001);
  return Uint32Array.from(out);
}

const refEncode = (x: number, wire: 'fp16' | 'bf16') => (wire === 'fp16' ? f32BitsToF16(x) : f32BitsToBf16(x));
const bitsOf = (f: Float32Array) => new Uint32Array(f.buffer, f.byteOffset, f.length);
/** float32 bits of a 16-bit pattern by the reference decoder. */
function refDecodeBits(h: number, wire: 'fp16' | 'bf16'): number {
  if (wire === 'bf16') return (h << 16) >>> 0;
  return bitsOf(f16Table32().subarray(h, h + 1))[0];
}
const hex = (x: number) => `0x${(x >>> 0).toString(16)}`;

test('kernels load (WebAssembly SIMD is available on Node 20)', () => {
  assert.ok(wire16SimdAvailable());
});

test('encode: every pattern equals the scalar reference', () => {
  const src = patterns(200_000);
  for (const wire of WIRES) {
    const dst = new Uint16Array(src.length).fill(0xabcd);
    assert.equal(simdEncode16(src, dst, wire), src.length);
    for (let i = 0; i < src.length; i++) {
      if (dst[i] !== refEncode(src[i], wire)) assert.fail(`${wire} encode ${hex(src[i])}: got ${hex(dst[i])}, want ${hex(refEncode(src[i], wire))}`);
    }
  }
});

test('decode and decode-add: all 65536 patterns equal the scalar reference', () => {
  const src = new Uint16Array(65536).map((_, i) => i);
  const acc0 = patterns(65536).subarray(0, 65536); // what the decoded values are added to: includes specials
  for (const wire of WIRES) {
    const dst = new Uint32Array(65536).fill(0xdeadbeef);
    assert.equal(simdDecode16(src, dst, wire, false), 65536);
    for (let h = 0; h < 65536; h++) {
      if (dst[h] !== refDecodeBits(h, wire)) assert.fail(`${wire} decode ${hex(h)}: got ${hex(dst[h])}, want ${hex(refDecodeBits(h, wire))}`);
    }
    const acc = Uint32Array.from(acc0);
    assert.equal(simdDecode16(src, acc, wire, true), 65536);
    const got = new Float32Array(acc.buffer);
    const a = new Float32Array(acc0.buffer, acc0.byteOffset, 65536);
    const one = new Float32Array(1);
    const oneBits = new Uint32Array(one.buffer);
    for (let h = 0; h < 65536; h++) {
      oneBits[0] = refDecodeBits(h, wire);
      const want = Math.fround(a[h] + one[0]);
      // NaN payloads of arithmetic results are not specified (wasm nor IEEE); everything else must match exactly.
      if (Number.isNaN(want)) assert.ok(Number.isNaN(got[h]), `${wire} add ${hex(h)} to ${a[h]}: want NaN`);
      else if (!Object.is(got[h], want)) assert.fail(`${wire} add ${hex(h)} to ${a[h]}: got ${got[h]}, want ${want}`);
    }
  }
});

test('quantize: every pattern equals decode(encode(x)) of the scalar reference', () => {
  const src = patterns(200_000);
  for (const wire of WIRES) {
    const v = Uint32Array.from(src);
    assert.equal(simdQuantize16(v, wire), v.length);
    for (let i = 0; i < v.length; i++) {
      const want = refDecodeBits(refEncode(src[i], wire), wire);
      if (v[i] !== want) assert.fail(`${wire} quantize ${hex(src[i])}: got ${hex(v[i])}, want ${hex(want)}`);
    }
  }
});

test('only the leading multiple of 8 is done, across blocks, and nothing outside the views is touched', () => {
  for (const n of [0, 7, 63, 64, 69, 32768 + 13, 3 * 32768 + 8]) {
    const want = n >= 64 ? n & ~7 : 0;
    const big32 = patterns(n + 2).subarray(0, n + 2);
    const src = big32.subarray(1, n + 1);
    const big16 = new Uint16Array(n + 2).fill(0x1234);
    const dst16 = big16.subarray(1, n + 1);
    assert.equal(simdEncode16(src, dst16, 'fp16'), want, `encode n=${n}`);
    for (let i = 0; i < want; i++) if (dst16[i] !== f32BitsToF16(src[i])) assert.fail(`encode n=${n} i=${i}`);
    for (let i = want; i < n; i++) assert.equal(dst16[i], 0x1234, `encode n=${n} wrote the tail at ${i}`);
    assert.equal(big16[0], 0x1234);
    assert.equal(big16[n + 1], 0x1234);

    const out = new Uint32Array(n + 2).fill(7);
    assert.equal(simdDecode16(dst16, out.subarray(1, n + 1), 'bf16', false), want, `decode n=${n}`);
    for (let i = 0; i < want; i++) if (out[i + 1] !== (dst16[i] << 16) >>> 0) assert.fail(`decode n=${n} i=${i}`);
    assert.equal(out[0], 7);
    assert.equal(out[want + 1], 7);

    const q = Uint32Array.from(big32);
    assert.equal(simdQuantize16(q.subarray(1, n + 1), 'bf16'), want, `quantize n=${n}`);
    assert.equal(q[0], big32[0]);
    for (let i = want + 1; i < n + 2; i++) assert.equal(q[i], big32[i], `quantize n=${n} wrote past ${want}`);
  }
});
