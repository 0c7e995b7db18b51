// Tests for the 16-bit wire formats: exact values, rounding to nearest even, specials, and the error bound.
// Run: node tools/run-tests.mjs libs/collective wire-format
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode16, decodeAdd16, encode16, f16Table32, f32BitsToBf16, f32BitsToF16, quantizeInPlace, roundTrip, wire16SimdActive } from './wire-format';

test('fp16: exact values, rounding ties to even, overflow, subnormals, specials', () => {
  for (const x of [0, 1, -2, 0.5, 65504, 2 ** -14, 2 ** -24, 1024.5 - 0.5]) assert.equal(roundTrip(x, 'fp16'), x);
  assert.equal(roundTrip(1 + 2 ** -11, 'fp16'), 1); // tie -> even (1.0)
  assert.equal(roundTrip(1 + 3 * 2 ** -11, 'fp16'), 1 + 2 ** -9); // tie -> even (odd mantissa rounds up)
  assert.equal(roundTrip(65520, 'fp16'), Infinity);
  assert.equal(roundTrip(-1e6, 'fp16'), -Infinity);
  assert.equal(roundTrip(2 ** -26, 'fp16'), 0);
  assert.equal(roundTrip(3 * 2 ** -26, 'fp16'), 2 ** -24);
  assert.ok(Number.isNaN(roundTrip(NaN, 'fp16')));
  assert.equal(roundTrip(Infinity, 'fp16'), Infinity);
});

test('bf16: exact values, ties to even, specials', () => {
  for (const x of [0, 1, -3, 2 ** 100, 1 + 2 ** -7]) assert.equal(roundTrip(x, 'bf16'), x);
  assert.equal(roundTrip(1 + 2 ** -8, 'bf16'), 1);
  assert.equal(roundTrip(1 + 3 * 2 ** -8, 'bf16'), 1 + 2 ** -6);
  assert.ok(Number.isNaN(roundTrip(NaN, 'bf16')));
  assert.equal(roundTrip(-Infinity, 'bf16'), -Infinity);
});

test('relative error within half an ulp of the format on random normals', () => {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (const [wire, eps] of [['fp16', 2 ** -11], ['bf16', 2 ** -8]] as const) {
    for (let i = 0; i < 10000; i++) {
      const x = Math.fround(rnd() * 100);
      if (Math.abs(x) < 1e-3) continue;
      assert.ok(Math.abs(roundTrip(x, wire) - x) <= eps * Math.abs(x), `${wire} ${x}`);
    }
  }
});

test('array encode/decode/add/quantize agree with the scalar path', () => {
  const v = Float32Array.from({ length: 257 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
  for (const wire of ['fp16', 'bf16'] as const) {
    const enc = new Uint16Array(v.length);
    encode16(new Uint32Array(v.buffer), enc, wire);
    const dec = new Float32Array(v.length);
    decode16(enc, dec, wire);
    const acc = Float32Array.from(v);
    decodeAdd16(enc, acc, wire);
    const q = Float32Array.from(v);
    quantizeInPlace(q, wire);
    for (let i = 0; i < v.length; i++) {
      assert.equal(dec[i], roundTrip(v[i], wire));
      assert.equal(q[i], dec[i]);
      assert.equal(acc[i], Math.fround(v[i] + dec[i]));
    }
  }
});

test('array functions (SIMD bulk + scalar tail) equal the per-element reference on random bits and specials', () => {
  for (const wire of ['fp16', 'bf16'] as const) assert.ok(wire16SimdActive(wire), `the ${wire} SIMD kernels should load and pass their self-check on Node 20`);
  let s = 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const specials = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xffbfffff, 0x1, 0x807fffff, 0x477fefff, 0x477ff000, 0x33000000, 0x33000001, 0x387fe000, 0x387ff000];
  const one = new Float32Array(1);
  const oneBits = new Uint32Array(one.buffer);
  const dec = (h: number, wire: 'fp16' | 'bf16') => {
    if (wire === 'fp16') one[0] = f16Table32()[h];
    else oneBits[0] = h << 16;
    return oneBits[0];
  };
  // lengths around the kernels' 8-element unit, their 64-element minimum and their 32768-element block; offset views
  for (const n of [5, 64, 71, 32768 * 2 + 3]) {
    const back = new Uint32Array(n + 1);
    for (let i = 0; i < back.length; i++) back[i] = i % 97 < specials.length ? specials[i % 97] : next();
    const bits = back.subarray(1);
    for (const wire of ['fp16', 'bf16'] as const) {
      const ref = wire === 'fp16' ? f32BitsToF16 : f32BitsToBf16;
      const enc = new Uint16Array(n + 1).subarray(1);
      encode16(bits, enc, wire);
      for (let i = 0; i < n; i++) if (enc[i] !== ref(bits[i])) assert.fail(`${wire} n=${n} encode16 at ${i}: ${bits[i].toString(16)}`);

      const out = new Float32Array(n + 1).subarray(1);
      const outBits = new Uint32Array(out.buffer, out.byteOffset, n);
      decode16(enc, out, wire);
      for (let i = 0; i < n; i++) if (outBits[i] !== dec(enc[i], wire)) assert.fail(`${wire} n=${n} decode16 at ${i}: ${enc[i].toString(16)}`);

      const qBits = Uint32Array.from(bits); // copied as bits: a float copy could quieten signalling NaNs
      const q = new Float32Array(qBits.buffer);
      quantizeInPlace(q, wire);
      for (let i = 0; i < n; i++) if (qBits[i] !== dec(ref(bits[i]), wire)) assert.fail(`${wire} n=${n} quantizeInPlace at ${i}: ${bits[i].toString(16)}`);

      const base = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 6));
      const acc = Float32Array.from(base);
      decodeAdd16(enc, acc, wire);
      for (let i = 0; i < n; i++) {
        oneBits[0] = dec(enc[i], wire);
        const want = Math.fround(base[i] + one[0]);
        if (Number.isNaN(want) ? !Number.isNaN(acc[i]) : !Object.is(acc[i], want)) assert.fail(`${wire} n=${n} decodeAdd16 at ${i}: ${acc[i]} != ${want}`);
      }
    }
  }
});
