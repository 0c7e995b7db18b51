// Scatter plots for the 2-D toy datasets (ring/grid of Gaussians): generated points in blue over optional real
// points in light grey, mode centres as red crosses, and axes through the origin with labelled ticks (a 3×5 pixel
// font, ./pixel-font). Mode collapse is visible at a glance. Given the modes, the scale is the dataset's (1.5× the
// farthest mode), so the real and every generated plot of a run share it; a generated point outside it is drawn
// on the frame, never dropped. Tested by scatter-plot.test.ts.
import { drawText, formatTick, GLYPH_H, textWidth } from './pixel-font';
import { writePngAtomic } from './png-file';

export interface ScatterPlotOptions {
  /** Mode centres, [m*2] (x, y pairs). */
  modes?: Float32Array;
  /** Image side in px; default 512. */
  size?: number;
  /**
   * Data range shown on both axes. Default: with `modes`, symmetric around 0 out to 1.5× the farthest mode
   * coordinate (the dataset's scale, the same for every plot of a run); else covering all points with a 10% margin.
   */
  range?: [number, number];
  /** Real data points, [k*2]. */
  real?: Float32Array;
}

type RGB = readonly [number, number, number];
const BG: RGB = [255, 255, 255];
const AXIS: RGB = [150, 150, 150];
const FRAME: RGB = [90, 90, 90];
const REAL: RGB = [200, 200, 200];
const GEN: RGB = [31, 90, 220];
const MODE: RGB = [220, 30, 30];

/**
 * Maps data (x, y) to pixel (px, py) for a square image of `size` px showing [lo, hi] on both axes, y up:
 * px = round((x - lo) / (hi - lo) * (size - 1)), py = round((hi - y) / (hi - lo) * (size - 1)).
 */
export function projectPoint(x: number, y: number, range: [number, number], size: number): [number, number] {
  const [lo, hi] = range;
  const s = (size - 1) / (hi - lo);
  return [Math.round((x - lo) * s), Math.round((hi - y) * s)];
}

/** Writes a `size`×`size` RGB PNG scatter plot of `points` ([n*2] x, y pairs). */
export function writeScatterPlot(filePath: string, points: Float32Array, opts: ScatterPlotOptions = {}): void {
  checkPairs('points', points);
  if (opts.real !== undefined) checkPairs('real', opts.real);
  if (opts.modes !== undefined) checkPairs('modes', opts.modes);
  const size = opts.size ?? 512;
  if (!Number.isInteger(size) || size < 16 || size > 8192) {
    throw new Error(`writeScatterPlot: size must be an integer in [16, 8192], got ${String(size)}`);
  }
  const range = opts.range ?? (opts.modes && opts.modes.length ? modeRange(opts.modes) : autoRange([points, opts.real, opts.modes]));
  if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || range[0] >= range[1]) {
    throw new Error(`writeScatterPlot: range must be [lo, hi] with finite lo < hi, got ${JSON.stringify(range)}`);
  }

  const rgba = Buffer.alloc(size * size * 4);
  const set = (px: number, py: number, c: RGB) => {
    if (px < 0 || py < 0 || px >= size || py >= size) return;
    const i = (py * size + px) * 4;
    rgba[i] = c[0];
    rgba[i + 1] = c[1];
    rgba[i + 2] = c[2];
  };
  for (let i = 0; i < rgba.length; i += 4) {
    rgba[i] = BG[0];
    rgba[i + 1] = BG[1];
    rgba[i + 2] = BG[2];
    rgba[i + 3] = 255;
  }

  // Axes through the origin (when visible), with ticks at a "nice" spacing so scale can be judged without labels.
  const [ox, oy] = projectPoint(0, 0, range, size);
  if (ox >= 0 && ox < size) for (let y = 0; y < size; y++) set(ox, y, AXIS);
  if (oy >= 0 && oy < size) for (let x = 0; x < size; x++) set(x, oy, AXIS);
  const step = niceStep((range[1] - range[0]) / 8);
  const tick = Math.max(3, Math.round(size / 100));
  // Labels at twice the font's size from 256 px up; the axes' own names sit at their positive ends.
  const scale = size >= 256 ? 2 : 1;
  const ink = (px: number, py: number) => set(px, py, FRAME);
  for (let i = Math.ceil(range[0] / step); i * step <= range[1] + 1e-9 * step; i++) {
    const v = i * step;
    const [tx, ty] = projectPoint(v, v, range, size);
    for (let d = -tick; d <= tick; d++) {
      if (oy >= 0 && oy < size) set(tx, oy + d, AXIS);
      if (ox >= 0 && ox < size) set(ox + d, ty, AXIS);
    }
    if (i === 0 || size < 128) continue;
    const label = formatTick(v);
    const w = textWidth(label, scale);
    const h = GLYPH_H * scale;
    // A label that would not fit inside the frame is left out rather than cut.
    if (oy >= 0 && oy < size && tx - w / 2 > 2 && tx + w / 2 < size - 2) drawText(ink, Math.round(tx - w / 2), oy + tick + 2, label, scale);
    if (ox >= 0 && ox < size && ty - h / 2 > 2 && ty + h / 2 < size - 2) drawText(ink, ox - tick - 3 - w, Math.round(ty - h / 2), label, scale);
  }
  if (size >= 128 && oy >= 0 && oy < size) drawText(ink, size - 3 - textWidth('x', scale), oy - 3 - GLYPH_H * scale, 'x', scale);
  if (size >= 128 && ox >= 0 && ox < size) drawText(ink, ox + 4, 3, 'y', scale);
  for (let i = 0; i < size; i++) {
    set(i, 0, FRAME);
    set(i, size - 1, FRAME);
    set(0, i, FRAME);
    set(size - 1, i, FRAME);
  }

  // Dots scale gently with image size: 3×3 at 512 px, 1 px on tiny images.
  const r = size >= 256 ? 1 : 0;
  const clamp = (p: number) => Math.min(size - 1, Math.max(0, p));
  const dots = (pts: Float32Array, c: RGB, onFrame: boolean) => {
    for (let i = 0; i < pts.length; i += 2) {
      if (!Number.isFinite(pts[i]) || !Number.isFinite(pts[i + 1])) continue;
      let [px, py] = projectPoint(pts[i], pts[i + 1], range, size);
      if (onFrame) [px, py] = [clamp(px), clamp(py)];
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) set(px + dx, py + dy, c);
    }
  };
  if (opts.real) dots(opts.real, REAL, false);
  dots(points, GEN, true);
  if (opts.modes) {
    const arm = Math.max(3, Math.round(size / 80));
    for (let i = 0; i < opts.modes.length; i += 2) {
      const [px, py] = projectPoint(opts.modes[i], opts.modes[i + 1], range, size);
      // A 2-px-thick diagonal cross: stays visible on top of a dense blue cluster.
      for (let d = -arm; d <= arm; d++) {
        set(px + d, py + d, MODE);
        set(px + d + 1, py + d, MODE);
        set(px + d, py - d, MODE);
        set(px + d + 1, py - d, MODE);
      }
    }
  }
  writePngAtomic(filePath, size, size, rgba, 2);
}

function checkPairs(name: string, a: Float32Array): void {
  if (!(a instanceof Float32Array)) throw new Error(`writeScatterPlot: ${name} must be a Float32Array`);
  if (a.length % 2 !== 0) throw new Error(`writeScatterPlot: ${name} length ${a.length} is odd; expected x, y pairs`);
}

/** Symmetric range [-m, m] covering every finite coordinate plus 10%; [-1, 1] when there is nothing to show. */
function autoRange(arrays: (Float32Array | undefined)[]): [number, number] {
  let m = 0;
  for (const a of arrays) {
    if (!a) continue;
    for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) m = Math.max(m, Math.abs(a[i]));
  }
  m = m > 0 ? m * 1.1 : 1;
  return [-m, m];
}

/** [-m, m] with m = 1.5 × the largest |coordinate| of the mode centres: the dataset's own scale. */
function modeRange(modes: Float32Array): [number, number] {
  let m = 0;
  for (let i = 0; i < modes.length; i++) if (Number.isFinite(modes[i])) m = Math.max(m, Math.abs(modes[i]));
  m = m > 0 ? m * 1.5 : 1;
  return [-m, m];
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const k of [1, 2, 5, 10]) if (k * p >= raw) return k * p;
  return 10 * p;
}
