/**
 * What the optimisers' WebAssembly kernels (adam-wasm.ts, rmsprop.ts) share: a module's float32 arrays of n values
 * each, padded to whole SIMD vectors (n4 = ⌈n/4⌉·4; the pads stay zero, and zeros update to zeros), in one shared
 * memory whose exports run on @gan/backend's host threads, each thread over its own chunk of the elements. Every
 * element is computed by the same code on any thread, so an update is bit-identical at any thread count. Tested
 * through adam-wasm.test.ts and rmsprop.test.ts. Not a runnable file.
 */
import { createHostKernel, type HostKernel } from '@gan/backend';

/** The exports every optimiser module has: `firstNonFinite(g, n4)` and a `step` over byte offsets and a count. */
type Exports = 'firstNonFinite' | 'step';

export interface OptimizerKernel {
  readonly n: number;
  /** n rounded up to a whole number of SIMD vectors: every array's length in memory. */
  readonly n4: number;
  /** Each array's first n values (views: valid for the kernel's life, since its memory never grows). */
  readonly arrays: Float32Array[];
  /** Index of the first NaN or ±Inf in array `g`, or -1. */
  firstNonFinite(g: number): number;
  /**
   * Runs `step` over every element: `args(offsets, count)` gives one chunk's arguments, from the byte offsets of
   * the arrays at the chunk's first element and its element count.
   */
  step(args: (offsets: number[], count: number) => number[]): void;
}

/**
 * A kernel of `count` arrays of n values over `module`. `what` names the caller in errors.
 * @throws Error (one line) when the arrays would exceed WebAssembly's 4 GiB memory
 */
export function createOptimizerKernel(module: WebAssembly.Module, count: number, n: number, what: string): OptimizerKernel {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: n must be a non-negative integer, got ${n}`);
  const n4 = Math.ceil(n / 4) * 4;
  const bytes = 4 * count * n4;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  if (pages > 65536) throw new Error(`${what}: ${n} parameters need ${(bytes / 2 ** 30).toFixed(1)} GiB of optimizer memory, more than WebAssembly's 4 GiB`);
  const kernel: HostKernel<Exports> = createHostKernel(module, ['firstNonFinite', 'step'], pages);
  const offsets = Array.from({ length: count }, (_, k) => k * 4 * n4);
  return {
    n,
    n4,
    arrays: offsets.map((off) => new Float32Array(kernel.memory.buffer, off, n)),
    firstNonFinite(g) {
      const at = offsets[g];
      const hit = kernel.run('firstNonFinite', n4, 4, (lo, c) => [at + 4 * lo, c]).find((chunk) => chunk.result >= 0);
      return hit ? hit.lo + hit.result : -1;
    },
    step(args) {
      kernel.run('step', n4, 4, (lo, c) => args(offsets.map((off) => off + 4 * lo), c));
    },
  };
}
