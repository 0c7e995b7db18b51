// The 2-D Gaussian-mixture toy sets of the mode-collapse literature: `ring8` (8 modes on a circle of radius 2,
// σ 0.02, as in Metz et al.'s unrolled GAN and VEEGAN) and `grid25` (5×5 modes at {-4,-2,0,2,4}², σ 0.05, as in
// VEEGAN/PacGAN). Sample i is a pure function of (seed, i): nothing is materialised. Tested in toy-2d.test.ts.
import { checkRead } from './check-read';
import { Rng, hashSeed } from './prng';
import type { Dataset } from './types';

const SALT = 0x2d70;

export interface ToySpec {
  name: 'ring8' | 'grid25';
  seed: number;
  /** Default 100,000. */
  length?: number;
}

/** The mode centres, [k*2], and σ of a toy set. */
export function toyModes(name: 'ring8' | 'grid25'): { modes: Float32Array; std: number } {
  if (name === 'ring8') {
    const modes = new Float32Array(16);
    for (let k = 0; k < 8; k++) {
      modes[2 * k] = 2 * Math.cos((2 * Math.PI * k) / 8);
      modes[2 * k + 1] = 2 * Math.sin((2 * Math.PI * k) / 8);
    }
    return { modes, std: 0.02 };
  }
  const modes = new Float32Array(50);
  let k = 0;
  for (let i = -2; i <= 2; i++) {
    for (let j = -2; j <= 2; j++) {
      modes[k++] = 2 * i;
      modes[k++] = 2 * j;
    }
  }
  return { modes, std: 0.05 };
}

export function createToyDataset(spec: ToySpec): Dataset {
  const length = spec.length ?? 100_000;
  if (!Number.isInteger(length) || length < 1) throw new Error(`${spec.name}: length must be a positive integer, got ${length}`);
  const { modes, std } = toyModes(spec.name);
  const k = modes.length / 2;
  const seed = spec.seed;
  return {
    name: spec.name,
    kind: 'points',
    length,
    sampleShape: [2],
    sampleSize: 2,
    modes,
    modeStd: std,
    read(indices, out) {
      checkRead(spec.name, length, 2, indices, out);
      for (let j = 0; j < indices.length; j++) {
        const rng = new Rng(hashSeed(seed, indices[j], SALT));
        const m = rng.int(k);
        out[2 * j] = modes[2 * m] + std * rng.normal();
        out[2 * j + 1] = modes[2 * m + 1] + std * rng.normal();
      }
    },
  };
}
