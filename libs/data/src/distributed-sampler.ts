// PyTorch DistributedSampler semantics for data-parallel training: every epoch one permutation of 0..length-1
// drawn from (seed + epoch), padded by wrapping to a multiple of worldSize (or its tail dropped with dropLast),
// and rank r takes positions r, r + worldSize, r + 2·worldSize, ... Tested in distributed-sampler.test.ts.
import { permutation } from './prng';

export interface SamplerOptions {
  length: number;
  worldSize: number;
  rank: number;
  seed: number;
  /** Default true; false = identity order every epoch. */
  shuffle?: boolean;
  /** Default false: pad by wrapping so every rank gets ceil(length / worldSize) indices. */
  dropLast?: boolean;
}

export class DistributedSampler {
  readonly length: number;
  readonly worldSize: number;
  readonly rank: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  /** Indices this rank gets per epoch. */
  readonly numSamples: number;
  /** numSamples × worldSize: the padded / truncated epoch length across all ranks. */
  readonly totalSize: number;
  private epoch = 0;

  constructor({ length, worldSize, rank, seed, shuffle = true, dropLast = false }: SamplerOptions) {
    if (!Number.isInteger(length) || length < 1) throw new Error(`DistributedSampler: length must be a positive integer, got ${length}`);
    if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`DistributedSampler: worldSize must be a positive integer, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`DistributedSampler: rank ${rank} is outside [0, ${worldSize})`);
    if (!Number.isFinite(seed)) throw new Error(`DistributedSampler: seed must be a finite number, got ${seed}`);
    if (dropLast && length < worldSize) {
      throw new Error(`DistributedSampler: dropLast with ${length} samples and ${worldSize} ranks leaves every rank empty`);
    }
    this.length = length;
    this.worldSize = worldSize;
    this.rank = rank;
    this.seed = seed;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.numSamples = dropLast ? Math.floor(length / worldSize) : Math.ceil(length / worldSize);
    this.totalSize = this.numSamples * worldSize;
  }

  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`DistributedSampler: epoch must be a non-negative integer, got ${epoch}`);
    this.epoch = epoch;
  }

  getEpoch(): number {
    return this.epoch;
  }

  /** This rank's indices for the current epoch (numSamples entries). */
  indices(): Int32Array {
    const n = this.length;
    const order = this.shuffle ? permutation(n, this.seed + this.epoch) : Int32Array.from({ length: n }, (_, i) => i);
    const out = new Int32Array(this.numSamples);
    // Position p in the padded global order is order[p mod n]: wrapping repeats the head as often as needed.
    for (let k = 0, p = this.rank; k < this.numSamples; k++, p += this.worldSize) out[k] = order[p % n];
    return out;
  }
}
