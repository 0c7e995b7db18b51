/**
 * Which rows of the global batch a rank's batch holds, for everything drawn per row (z, wgan-gp's ε): local row j
 * of rank r in a world of N is global row j·N + r, the position of its real sample in the batch, since the data's
 * DistributedSampler deals positions out round-robin (rank r takes r, r + N, ...; @gan/data). So each real row meets
 * the z (and ε) one process with batch N·b gives it, which per-row pairings need (wgan-gp interpolates real row i
 * with fake row i); losses that are plain means over rows only needed the same set of rows.
 * Tested end to end by test/objectives.test.ts (2 workers × b equal 1 × 2b); run: node tools/run-tests.mjs test objectives
 */
import { batchNoise } from './noise';

/** The global rows of `rank`'s batch of `batch` rows in a world of `worldSize`: j·worldSize + rank for j < batch. */
export function globalRows(rank: number, worldSize: number, batch: number): number[] {
  return Array.from({ length: batch }, (_, j) => j * worldSize + rank);
}

/** z for the given global rows of D update `step`: Float32Array [rows.length · nz], row-major, each row as batchNoise draws it. */
export function rowsNoise(seed: number, step: number, rows: readonly number[], nz: number): Float32Array {
  const out = new Float32Array(rows.length * nz);
  rows.forEach((row, j) => out.set(batchNoise(seed, step, row, 1, nz), j * nz));
  return out;
}
