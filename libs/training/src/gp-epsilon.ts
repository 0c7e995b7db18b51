/**
 * WGAN-GP's interpolation weights ε for one worker's batch at one D update: one per global row (./global-rows), drawn
 * from (seed, D update, global row) as z is, so the rows N workers × b hold are the rows one process × N·b draws,
 * each with the real sample and the z it meets there, and a resumed run redraws the same ε. The draw itself is @gan/model's
 * (interpolationWeights: rng.ts's generator, one U(0, 1) per row). Tested end to end by test/objectives.test.ts
 * (2 workers × b equal 1 × 2b); run: node tools/run-tests.mjs test objectives
 */
import { interpolationWeights } from '@gan/model';
import { mixSeed } from './noise';

/** Tag that keeps ε's row seeds apart from z's (NOISE_STREAM's tags are 1 … 3). */
const GP_STREAM = 0x6770;

/** ε for the given global rows of D update `step`: Float32Array [rows.length]. */
export function gpEpsilon(seed: number, step: number, rows: readonly number[]): Float32Array {
  return interpolationWeights(rows.map((row) => mixSeed(seed, GP_STREAM, step, row)));
}
