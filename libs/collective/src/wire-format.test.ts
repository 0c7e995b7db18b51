// Tests for the 16-bit wire formats: exact values, rounding to nearest even, specials, and the error bound.
// Run: node tools/run-tests.mjs libs/collective wire-format
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode16, decodeAdd16, encode16, quantizeInPlace, roundTrip } from './wire-format';

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
