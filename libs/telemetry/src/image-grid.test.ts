// Tests for writeImageGrid: grid dimensions, pixel mapping [-1, 1] -> [0, 255], tile placement, validation.
// Run: node tools/run-tests.mjs libs/telemetry image-grid
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { writeImageGrid } from './image-grid';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gan-grid-'));
const decode = (file: string) => PNG.sync.read(fs.readFileSync(file));
const px = (png: PNG, x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4)];

test('grey batch: 5 images of 4x3 -> 3 cols x 2 rows with 2 px padding, values mapped back', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'sub', 'grid.png');
  const [n, h, w] = [5, 4, 3];
  const data = new Float32Array(n * h * w);
  // Image k, pixel (y, x) = a distinct value spanning [-1, 1].
  for (let k = 0; k < n; k++) for (let i = 0; i < h * w; i++) data[k * h * w + i] = -1 + (2 * (k * h * w + i)) / (n * h * w - 1);
  writeImageGrid(file, data, { n, h, w, c: 1 });
  const png = decode(file);
  assert.equal(png.width, 3 * (w + 2) + 2);
  assert.equal(png.height, 2 * (h + 2) + 2);
  // First pixel of image 0 is -1 -> 0; last pixel of image 4 is +1 -> 255; tile origins follow row-major order.
  assert.deepEqual(px(png, 2, 2), [0, 0, 0, 255]);
  const last = [2 + 1 * (w + 2) + (w - 1), 2 + 1 * (h + 2) + (h - 1)]; // image 4 is row 1, col 1
  assert.deepEqual(px(png, last[0], last[1]), [255, 255, 255, 255]);
  // An interior pixel: image 3 (row 1, col 0), y=2, x=1.
  const v = data[3 * h * w + 2 * w + 1];
  const g = Math.round(((v + 1) / 2) * 255);
  assert.deepEqual(px(png, 2 + 1, 2 + (h + 2) + 2), [g, g, g, 255]);
  // Padding and the empty 6th slot are black.
  assert.deepEqual(px(png, 0, 0), [0, 0, 0, 255]);
  assert.deepEqual(px(png, 2 + 2 * (w + 2) + 1, 2 + (h + 2) + 1), [0, 0, 0, 255]);
  assert.ok(!fs.readdirSync(path.dirname(file)).some((f) => f.includes('.tmp-')), 'no temp file left behind');
  fs.rmSync(dir, { recursive: true });
});

test('RGB batch keeps channels, clamps out-of-range values and honours cols/padding', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'rgb.png');
  const [n, h, w, c] = [2, 2, 2, 3] as const;
  const data = new Float32Array(n * h * w * c);
  data.set([1, -1, 0], 0); // image 0 pixel (0,0): red-ish with mid blue
  data.set([-5, 5, 0.5], (1 * h * w + 3) * c); // image 1 pixel (1,1): clamped
  writeImageGrid(file, data, { n, h, w, c }, { cols: 1, padding: 1 });
  const png = decode(file);
  assert.equal(png.width, 1 * (w + 1) + 1);
  assert.equal(png.height, 2 * (h + 1) + 1);
  assert.deepEqual(px(png, 1, 1), [255, 0, 128, 255]);
  assert.deepEqual(px(png, 1 + 1, 1 + (h + 1) + 1), [0, 255, 191, 255]);
  fs.rmSync(dir, { recursive: true });
});

test('rejects a data length that does not match the shape, and bad channels', () => {
  const f = path.join(os.tmpdir(), 'never-written.png');
  assert.throws(() => writeImageGrid(f, new Float32Array(10), { n: 1, h: 3, w: 3, c: 1 }), /has 10 values.*needs 9/);
  assert.throws(() => writeImageGrid(f, new Float32Array(8), { n: 1, h: 2, w: 2, c: 2 as 1 }), /shape\.c must be 1 or 3/);
});
