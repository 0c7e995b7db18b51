/**
 * The Adam update as a WebAssembly SIMD kernel (wasm/adam.wat, compiled by tools/build-wasm.mjs): one instance per
 * optimizer, whose shared memory holds the weights, both moments and the gradient as float32 arrays, updated on the
 * host threads (./optimizer-kernel). Measured on the document's G (12.7 M params, 2-core box): the plain JS loop it
 * replaced took ~400 ms a step in the trainer, counting its finiteness pass; see adam.ts for the arithmetic, which is
 * unchanged to the bit. Not a runnable file.
 */
import { adamWasm } from './wasm/generated/adam.wasm';
import { createOptimizerKernel } from './optimizer-kernel';

/** One optimizer's kernel: four float32 arrays of n values in its own wasm memory, and the two functions. */
export interface AdamKernel {
  readonly n: number;
  /** The weights the next step updates (a view: valid for the kernel's life, since its memory never grows). */
  readonly w: Float32Array;
  /** First moment. */
  readonly m: Float32Array;
  /** Second moment. */
  readonly v: Float32Array;
  /** The gradient the next step applies: copy it in first. */
  readonly g: Float32Array;
  /** Index of the first NaN or ±Inf in g, or -1. */
  firstNonFinite(): number;
  /** One update of w, m and v from g; coefficients as in adam.ts, all float64. */
  step(b1: number, a1: number, b2: number, a2: number, stepSize: number, bc2: number, eps: number): void;
}

let compiled: WebAssembly.Module | null = null;

/** A kernel for `n` parameters, its arrays zeroed. Throws when 16·n bytes exceed WebAssembly's 4 GiB memory. */
export function createAdamKernel(n: number): AdamKernel {
  compiled ??= new WebAssembly.Module(adamWasm());
  const k = createOptimizerKernel(compiled, 4, n, 'createAdam');
  const [w, m, v, g] = k.arrays;
  return {
    n,
    w,
    m,
    v,
    g,
    firstNonFinite: () => k.firstNonFinite(3),
    // wasm/adam.wat's step(w, m, v, g, n4, b1, a1, b2, a2, stepSize, bc2, eps), offsets in bytes.
    step: (b1, a1, b2, a2, stepSize, bc2, eps) => k.step((at, count) => [...at, count, b1, a1, b2, a2, stepSize, bc2, eps]),
  };
}
