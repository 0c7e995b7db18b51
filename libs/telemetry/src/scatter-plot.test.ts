// Tests for writeScatterPlot: image size, point/mode/real colours at the projected positions, auto range.
// Run: node tools/run-tests.mjs libs/telemetry scatter
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { writeScatterPlot } from './scatter-plot';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gan-scatter-'));
const rgbAt = (png: PNG, x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
const isWhite = (c: number[]) => c.every((v) => v === 255);
const isBlue = (c: number[]) => c[2] > 150 && c[0] < 100;
const isRed = (c: number[]) => c[0] > 150 && c[2] < 100;

// Independent of the implementation's projectPoint: [lo, hi] spans the image, y axis points up.
const proj = (x: number, y: number, lo: number, hi: number, size: number) => [
  Math.round(((x - lo) / (hi - lo)) * (size - 1)),
  Math.round(((hi - y) / (hi - lo)) * (size - 1)),
];

test('draws generated points in blue at their projected positions, modes as red crosses, real in grey', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'scatter.png');
  const size = 301;
  const points = new Float32Array([1, 1, -1.5, 0.5, 0.25, -1.75]);
  const modes = new Float32Array([-1, -1]);
  const real = new Float32Array([1.5, -0.5]);
  writeScatterPlot(file, points, { size, range: [-2, 2], modes, real });
  const png = PNG.sync.read(fs.readFileSync(file));
  assert.equal(png.width, size);
  assert.equal(png.height, size);
  for (let i = 0; i < points.length; i += 2) {
    const [x, y] = proj(points[i], points[i + 1], -2, 2, size);
    assert.ok(isBlue(rgbAt(png, x, y)), `point ${i / 2} at (${x},${y}) is blue, got ${rgbAt(png, x, y)}`);
  }
  const [mx, my] = proj(-1, -1, -2, 2, size);
  assert.ok(isRed(rgbAt(png, mx, my)), 'mode centre is red');
  assert.ok(isRed(rgbAt(png, mx + 3, my + 3)) && isRed(rgbAt(png, mx - 3, my + 3)), 'mode drawn as a cross');
  const [rx, ry] = proj(1.5, -0.5, -2, 2, size);
  const rc = rgbAt(png, rx, ry);
  assert.ok(!isWhite(rc) && rc[0] === rc[1] && rc[1] === rc[2] && rc[0] > 150, `real point is light grey, got ${rc}`);
  // Somewhere away from every mark, axis and the frame stays background.
  assert.ok(isWhite(rgbAt(png, 40, 60)));
  fs.rmSync(dir, { recursive: true });
});

test('auto range is symmetric and keeps every point inside the image (default 512 px)', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'auto.png');
  const points = new Float32Array([10, 0, 0, -4, -3, 3]);
  writeScatterPlot(file, points);
  const png = PNG.sync.read(fs.readFileSync(file));
  assert.equal(png.width, 512);
  assert.equal(png.height, 512);
  // Auto range is [-11, 11] (max |coord| 10, +10%).
  for (let i = 0; i < points.length; i += 2) {
    const [x, y] = proj(points[i], points[i + 1], -11, 11, 512);
    assert.ok(isBlue(rgbAt(png, x, y)), `point ${i / 2} at (${x},${y}) is blue`);
  }
  fs.rmSync(dir, { recursive: true });
});

test('rejects odd-length points and an empty range', () => {
  const f = path.join(os.tmpdir(), 'never-written.png');
  assert.throws(() => writeScatterPlot(f, new Float32Array(3)), /points length 3 is odd/);
  assert.throws(() => writeScatterPlot(f, new Float32Array(2), { range: [1, 1] }), /range must be/);
});

test("with modes the scale is the dataset's (1.5× the farthest mode) whatever the points, so plots of a run compare", () => {
  const dir = tmpDir();
  const modes = new Float32Array([2, 0, 0, 2, -2, 0, 0, -2]);
  // Range [-3, 3]: a point at (1, 1) lands where the independent projection puts it, in both plots.
  const a = path.join(dir, 'a.png');
  const b = path.join(dir, 'b.png');
  writeScatterPlot(a, new Float32Array([1, 1]), { modes });
  writeScatterPlot(b, new Float32Array([1, 1, 0.5, -0.5, 40, 0.5]), { modes });
  const pa = PNG.sync.read(fs.readFileSync(a));
  const pb = PNG.sync.read(fs.readFileSync(b));
  const [x, y] = proj(1, 1, -3, 3, 512);
  assert.ok(isBlue(rgbAt(pa, x, y)) && isBlue(rgbAt(pb, x, y)), 'the same point is at the same pixel in both plots');
  // A point far outside the scale is drawn on the frame at its height, not dropped.
  const [, fy] = proj(0, 0.5, -3, 3, 512);
  assert.ok(isBlue(rgbAt(pb, 511, fy)), `the far point sits on the right edge, got ${rgbAt(pb, 511, fy)}`);
  fs.rmSync(dir, { recursive: true });
});

test('ticks carry their values: label ink appears under the x axis at ±1 and ±2, not at 0', () => {
  const dir = tmpDir();
  const file = path.join(dir, 't.png');
  writeScatterPlot(file, new Float32Array([0, 0]), { range: [-3, 3] });
  const png = PNG.sync.read(fs.readFileSync(file));
  const [, oy] = proj(0, 0, -3, 3, 512);
  const inkBelow = (v: number) => {
    const [tx] = proj(v, 0, -3, 3, 512);
    let n = 0;
    for (let yy = oy + 8; yy < oy + 24; yy++) for (let xx = tx - 8; xx <= tx + 8; xx++) if (!isWhite(rgbAt(png, xx, yy))) n++;
    return n;
  };
  for (const v of [-2, -1, 1, 2]) assert.ok(inkBelow(v) > 10, `a label under the tick at ${v}`);
  // At 0 only the vertical axis crosses that box.
  assert.ok(inkBelow(0) <= 16, `no label at the origin (${inkBelow(0)} ink pixels)`);
  fs.rmSync(dir, { recursive: true });
});
