/**
 * Plain-array helpers shared by the tests that feed the model and PyTorch the same bytes. Not a runnable file.
 */

/** Deterministic values in [lo, hi) from an LCG (independent of tfjs's and the product's RNGs). */
export function lcgArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/** [B,H,W,C] (ours) → [B,C,H,W] (PyTorch's). */
export function nhwcToNchw(x: Float32Array, b: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < b; n++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) {
    out[((n * c + ch) * h + y) * w + xx] = x[((n * h + y) * w + xx) * c + ch];
  }
  return out;
}
