/**
 * Seeded noise and PRNG helpers for training. z is generated per ROW from (seed, step, global row index), so a
 * batch split across N workers (rank r owns global rows j·N + r, ./global-rows) holds exactly the rows one process with batch N·b
 * would draw: the property the data-parallel equivalence test relies on, and what makes resume bit-exact. Each row
 * is a mulberry32 stream (@gan/data's Rng) turned into normals by the ziggurat method (ziggurat.ts).
 */
import { Rng } from '@gan/data';
import { fillNormal } from './ziggurat';

/** 32-bit mix of several integers (murmur3-style finaliser); order matters. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    let k = Math.imul((p | 0) ^ ((p / 0x100000000) | 0), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Stream tags so D-phase, sampling and other noise never share a sequence. */
export const NOISE_STREAM = { train: 1, fixedSamples: 2, eval: 3 } as const;

/**
 * z for one worker's batch at one step: rows firstRow … firstRow+batch−1 of the global batch.
 * @returns Float32Array [batch * nz], row-major.
 */
export function batchNoise(seed: number, step: number, firstRow: number, batch: number, nz: number, stream: number = NOISE_STREAM.train): Float32Array {
  const out = new Float32Array(batch * nz);
  for (let r = 0; r < batch; r++) {
    fillNormal(out, new Rng(mixSeed(seed, stream, step, firstRow + r)), r * nz, (r + 1) * nz);
  }
  return out;
}
