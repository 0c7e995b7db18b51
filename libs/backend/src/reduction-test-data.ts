// Test data for this lib's reduction tests (wasm-reduce-kernels.test.ts, webgpu-batch-norm-kernels.test.ts). Not part
// of the public API; not runnable.

/** Deterministic values in [-1, 1) (an LCG, independent of tfjs's RNG). */
export function lcg(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/**
 * [R, C] values whose per-column sums nearly cancel, like BatchNorm's Σ dy·x̂: each column is shifted to mean ≈ 0
 * and given a large common offset on half of its rows that the other half takes back.
 */
export function cancellingColumns(rows: number, cols: number, seed: number): Float32Array {
  const v = lcg(rows * cols, seed);
  for (let c = 0; c < cols; c++) {
    let m = 0;
    for (let r = 0; r < rows; r++) m += v[r * cols + c];
    m /= rows;
    for (let r = 0; r < rows; r++) v[r * cols + c] = Math.fround(v[r * cols + c] - m + (r < rows / 2 ? 3 : -3));
  }
  return v;
}
