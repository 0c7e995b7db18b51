// Deterministic per-rank test data and its float64 reference reduction (every rank can recompute every other
// rank's input from (seed, rank), so results are checked without shipping buffers around).

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** length values in roughly [-4, 4] with varied magnitudes, for (seed, rank). */
export function makeRankData(seed: number, rank: number, length: number): Float32Array {
  const r = rng(seed * 1009 + rank * 7919 + 1);
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = (r() * 2 - 1) * 2 ** Math.floor(r() * 4 - 1);
  return a;
}

/** float64 sum (or mean) over ranks and the sum of absolute values (for error bounds), element-wise. */
export function referenceReduce(seed: number, n: number, length: number, op: 'sum' | 'mean'): { ref: Float64Array; absSum: Float64Array } {
  const ref = new Float64Array(length);
  const absSum = new Float64Array(length);
  for (let r = 0; r < n; r++) {
    const d = makeRankData(seed, r, length);
    for (let i = 0; i < length; i++) {
      ref[i] += d[i];
      absSum[i] += Math.abs(d[i]);
    }
  }
  if (op === 'mean') for (let i = 0; i < length; i++) {
    ref[i] /= n;
    absSum[i] /= n;
  }
  return { ref, absSum };
}
