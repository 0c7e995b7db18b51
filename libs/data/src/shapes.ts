// `shapes`: a procedural image set of one antialiased circle, square or triangle per image, of random size,
// position, rotation and colour on a plain background. Sample i is a pure function of (seed, i, imageSize,
// channels); labels are the shape class (0 circle, 1 square, 2 triangle). Tested in shapes.test.ts.
import { checkRead } from './check-read';
import { Rng, hashSeed } from './prng';
import type { Dataset } from './types';

const SALT = 0x5a4e;
export const SHAPE_CLASSES = ['circle', 'square', 'triangle'] as const;

export interface ShapesSpec {
  seed: number;
  imageSize: number;
  channels: 1 | 3;
  /** Default 20,000. */
  length?: number;
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (i % 6) {
    case 0: return [v, t, p];
    case 1: return [q, v, p];
    case 2: return [p, v, t];
    case 3: return [p, q, v];
    case 4: return [t, p, v];
    default: return [v, p, q];
  }
}

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/**
 * Renders sample i into out[offset .. offset + S*S*C) as HWC floats in [-1, 1]. Every random number is drawn
 * before any decision so the stream layout is fixed; the first draw is the class (see shapeLabel).
 */
export function renderShape(seed: number, i: number, size: number, channels: 1 | 3, out: Float32Array, offset: number): void {
  const rng = new Rng(hashSeed(seed, i, SALT));
  const kind = rng.int(3);
  const rFrac = rng.next();
  const cxFrac = rng.next();
  const cyFrac = rng.next();
  const angle = rng.next() * 2 * Math.PI;
  const fg = hsvToRgb(rng.next(), 0.5 + 0.5 * rng.next(), 0.75 + 0.25 * rng.next());
  const bgDark = 0.22 * rng.next();
  const bgLight = 0.82 + 0.18 * rng.next();
  const tint = rng.next();
  // A dark background unless the shape itself is too dark to stand out against it (also in grayscale).
  const bgLevel = luma(...fg) - bgDark >= 0.3 ? bgDark : bgLight;
  // A faint tint keeps backgrounds "plain" but not all identical grays.
  const bg: [number, number, number] = [bgLevel, bgLevel * (0.9 + 0.1 * tint), bgLevel * (1 - 0.1 * tint)];

  const S = size;
  const r = S * (0.18 + 0.2 * rFrac); // circumradius in pixels
  const cx = r + 1 + cxFrac * Math.max(0, S - 2 * r - 2);
  const cy = r + 1 + cyFrac * Math.max(0, S - 2 * r - 2);
  // Convex polygon as (point on edge, outward unit normal) pairs; the signed distance to it is the max over edges.
  const nSides = kind === 1 ? 4 : 3;
  const ex: number[] = [], ey: number[] = [], nx: number[] = [], ny: number[] = [];
  if (kind !== 0) {
    for (let k = 0; k < nSides; k++) {
      const a0 = angle + (2 * Math.PI * k) / nSides;
      const a1 = angle + (2 * Math.PI * (k + 1)) / nSides;
      const x0 = cx + r * Math.cos(a0), y0 = cy + r * Math.sin(a0);
      const mid = (a0 + a1) / 2;
      ex.push(x0); ey.push(y0); nx.push(Math.cos(mid)); ny.push(Math.sin(mid));
    }
  }
  const C = channels;
  const fgL = luma(...fg), bgL = luma(...bg);
  // Outside the circumcircle's bounding box plus 2 pixels every pixel is pure background (even for the triangle,
  // whose edge-distance bound is cos(60°) × the distance beyond the circumcircle), so skip the distance maths.
  const x0 = Math.max(0, Math.floor(cx - r - 2)), x1 = Math.min(S, Math.ceil(cx + r + 2));
  const y0 = Math.max(0, Math.floor(cy - r - 2)), y1 = Math.min(S, Math.ceil(cy + r + 2));
  for (let y = 0; y < S; y++) {
    const py = y + 0.5;
    for (let x = 0; x < S; x++) {
      const px = x + 0.5;
      let d: number;
      if (y < y0 || y >= y1 || x < x0 || x >= x1) {
        d = 1;
      } else if (kind === 0) {
        d = Math.hypot(px - cx, py - cy) - r * 0.85;
      } else {
        d = -Infinity;
        for (let k = 0; k < nSides; k++) d = Math.max(d, (px - ex[k]) * nx[k] + (py - ey[k]) * ny[k]);
      }
      // Coverage of a 1-pixel-wide box by the half-plane at signed distance d: a cheap, good antialias.
      const cov = d <= -0.5 ? 1 : d >= 0.5 ? 0 : 0.5 - d;
      const o = offset + (y * S + x) * C;
      if (C === 1) {
        out[o] = 2 * (bgL + (fgL - bgL) * cov) - 1;
      } else {
        out[o] = 2 * (bg[0] + (fg[0] - bg[0]) * cov) - 1;
        out[o + 1] = 2 * (bg[1] + (fg[1] - bg[1]) * cov) - 1;
        out[o + 2] = 2 * (bg[2] + (fg[2] - bg[2]) * cov) - 1;
      }
    }
  }
}

/** The class of sample i without rendering it. */
export function shapeLabel(seed: number, i: number): number {
  return new Rng(hashSeed(seed, i, SALT)).int(3);
}

export function createShapesDataset(spec: ShapesSpec): Dataset {
  const length = spec.length ?? 20_000;
  const S = spec.imageSize;
  const C = spec.channels;
  if (!Number.isInteger(length) || length < 1) throw new Error(`shapes: length must be a positive integer, got ${length}`);
  if (!Number.isInteger(S) || S < 8 || S > 1024) throw new Error(`shapes: imageSize must be an integer in [8, 1024], got ${S}`);
  if (C !== 1 && C !== 3) throw new Error(`shapes: channels must be 1 or 3, got ${C}`);
  const labels = new Int32Array(length);
  for (let i = 0; i < length; i++) labels[i] = shapeLabel(spec.seed, i);
  const sampleSize = S * S * C;
  return {
    name: 'shapes',
    kind: 'image',
    length,
    sampleShape: [S, S, C],
    sampleSize,
    labels,
    read(indices, out) {
      checkRead('shapes', length, sampleSize, indices, out);
      for (let j = 0; j < indices.length; j++) renderShape(spec.seed, indices[j], S, C, out, j * sampleSize);
    },
  };
}
