// Sample grids for GAN output: a batch of NHWC images in [-1, 1] (the generator's tanh range) tiled into one PNG,
// laid out like torchvision's make_grid/save_image(normalize=True, value_range=(-1, 1)): row-major, `cols` per
// row, 2 px black padding around every tile. Tested by image-grid.test.ts.
import { writePngAtomic } from './png-file';

export interface ImageShape {
  /** Number of images. */
  n: number;
  h: number;
  w: number;
  /** Channels: 1 (grey) or 3 (RGB). */
  c: 1 | 3;
}

export interface ImageGridOptions {
  /** Images per row; default ceil(sqrt(n)). */
  cols?: number;
  /** Pixels between and around tiles; default 2. */
  padding?: number;
}

/** Maps a value in [-1, 1] to a byte; out-of-range values clamp and NaN becomes 0 (a diverged batch stays viewable). */
export function toByte(v: number): number {
  if (!(v > -1)) return 0; // also catches NaN
  if (v >= 1) return 255;
  return Math.round(((v + 1) / 2) * 255);
}

/**
 * Writes `images` (Float32Array [n*h*w*c], NHWC, values in [-1, 1]) as one PNG grid of
 * width cols*(w+padding)+padding and height rows*(h+padding)+padding, rows = ceil(n/cols).
 */
export function writeImageGrid(filePath: string, images: Float32Array, shape: ImageShape, opts: ImageGridOptions = {}): void {
  const { n, h, w, c } = shape ?? ({} as ImageShape);
  for (const [name, v] of [['n', n], ['h', h], ['w', w]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`writeImageGrid: shape.${name} must be a positive integer, got ${String(v)}`);
  }
  if (c !== 1 && c !== 3) throw new Error(`writeImageGrid: shape.c must be 1 or 3, got ${String(c)}`);
  if (!(images instanceof Float32Array)) throw new Error('writeImageGrid: images must be a Float32Array');
  if (images.length !== n * h * w * c) {
    throw new Error(`writeImageGrid: images has ${images.length} values, shape [${n},${h},${w},${c}] needs ${n * h * w * c}`);
  }
  const cols = opts.cols ?? Math.ceil(Math.sqrt(n));
  const pad = opts.padding ?? 2;
  if (!Number.isInteger(cols) || cols <= 0) throw new Error(`writeImageGrid: cols must be a positive integer, got ${String(cols)}`);
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`writeImageGrid: padding must be a non-negative integer, got ${String(pad)}`);

  const usedCols = Math.min(cols, n);
  const rows = Math.ceil(n / cols);
  const W = usedCols * (w + pad) + pad;
  const H = rows * (h + pad) + pad;
  const rgba = Buffer.alloc(W * H * 4);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255; // opaque black background = padding colour

  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % cols) * (w + pad);
    const y0 = pad + Math.floor(k / cols) * (h + pad);
    const base = k * h * w * c;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = base + (y * w + x) * c;
        const dst = ((y0 + y) * W + (x0 + x)) * 4;
        if (c === 1) {
          const g = toByte(images[src]);
          rgba[dst] = g;
          rgba[dst + 1] = g;
          rgba[dst + 2] = g;
        } else {
          rgba[dst] = toByte(images[src]);
          rgba[dst + 1] = toByte(images[src + 1]);
          rgba[dst + 2] = toByte(images[src + 2]);
        }
      }
    }
  }
  writePngAtomic(filePath, W, H, rgba, c === 1 ? 0 : 2);
}
