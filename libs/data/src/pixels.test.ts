// Tests of pixel conversion: [-1, 1] scaling, ITU-R 601 luma, gray replication, bilinear resize, centred pad.
// Run: node tools/run-tests.mjs libs/data pixels
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeImageConverter, resampleTaps } from './pixels';

test('same size: exact [-1, 1] scaling, 601 luma for RGB→gray, replication for gray→RGB', () => {
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]); // 2×2 RGB
  const out = new Float32Array(4);
  makeImageConverter(2, 2, 3, 2, 1)(rgb, 0, out, 0);
  const expect = [0.299 * 255, 0.587 * 255, 0.114 * 255, 255].map((v) => (v * 2) / 255 - 1);
  out.forEach((v, i) => assert.ok(Math.abs(v - expect[i]) < 1e-5, `${v} vs ${expect[i]}`));
  const gray = Uint8Array.from([0, 51, 255, 128]);
  const o3 = new Float32Array(12);
  makeImageConverter(2, 2, 1, 2, 3)(gray, 0, o3, 0);
  for (let p = 0; p < 4; p++) for (let c = 0; c < 3; c++) assert.ok(Math.abs(o3[3 * p + c] - ((gray[p] * 2) / 255 - 1)) < 1e-6);
  assert.equal(o3[0], -1);
  assert.equal(o3[6], 1);
});

test('bilinear taps sum to 1; a constant image stays constant at any size; values stay in range', () => {
  for (const [a, b] of [[28, 32], [28, 64], [28, 16], [32, 28], [100, 7]]) {
    const t = resampleTaps(a, b);
    for (let i = 0; i < b; i++) {
      let s = 0;
      for (let k = 0; k < t.count[i]; k++) s += t.w[i * t.maxTaps + k];
      assert.ok(Math.abs(s - 1) < 1e-5);
    }
    const img = new Uint8Array(a * a).fill(200);
    const out = new Float32Array(b * b);
    makeImageConverter(a, a, 1, b, 1)(img, 0, out, 0);
    for (const v of out) assert.ok(Math.abs(v - ((200 * 2) / 255 - 1)) < 1e-5);
  }
  // A horizontal ramp keeps its order and its endpoints' neighbourhood when upscaled.
  const ramp = Uint8Array.from({ length: 28 * 28 }, (_, p) => (p % 28) * 9);
  const out = new Float32Array(32 * 32);
  makeImageConverter(28, 28, 1, 32, 1)(ramp, 0, out, 0);
  for (let x = 1; x < 32; x++) assert.ok(out[5 * 32 + x] >= out[5 * 32 + x - 1]);
  for (const v of out) assert.ok(v >= -1 && v <= 1);
});

test('downscaling averages (no aliasing of a checkerboard)', () => {
  const n = 32;
  const cb = Uint8Array.from({ length: n * n }, (_, p) => (((p % n) + Math.floor(p / n)) % 2 ? 255 : 0));
  const out = new Float32Array(8 * 8);
  makeImageConverter(n, n, 1, 8, 1)(cb, 0, out, 0);
  for (const v of out) assert.ok(Math.abs(v) < 0.1, `checkerboard mean should be ~0, got ${v}`);
});

test('pad 28→32 centres the image on -1', () => {
  const img = new Uint8Array(28 * 28).fill(255);
  const out = new Float32Array(32 * 32);
  makeImageConverter(28, 28, 1, 32, 1, 'pad')(img, 0, out, 0);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
    const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
    assert.equal(out[y * 32 + x], inside ? 1 : -1, `(${y}, ${x})`);
  }
  assert.throws(() => makeImageConverter(28, 28, 1, 16, 1, 'pad'), /does not fit/);
});
