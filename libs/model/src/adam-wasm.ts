/**
 * The Adam update as a WebAssembly SIMD kernel (wasm/adam.wat, compiled by tools/build-wasm.mjs): one instance per
 * optimizer, whose memory holds the weights, both moments and the gradient as float32 arrays. Measured on the
 * document's G (12.7 M params, 2-core box): the plain JS loop it replaced took ~400 ms a step in the trainer,
 * counting its finiteness pass; see adam.ts for the arithmetic, which is unchanged to the bit. Not a runnable file.
 */
import { adamWasm } from './wasm/generated/adam.wasm';

/** wasm/adam.wat's exports. Offsets are bytes into the instance's memory; n4 is a multiple of 4. */
interface AdamExports {
  firstNonFinite(g: number, n4: number): number;
  step(w: number, m: number, v: number, g: number, n4: number, b1: number, a1: number, b2: number, a2: number, stepSize: number, bc2: number, eps: number): void;
}

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
  if (!Number.isInteger(n) || n < 0) throw new Error(`createAdamKernel: n must be a non-negative integer, got ${n}`);
  // Padding to whole SIMD vectors: the pads stay zero, and zeros update to zeros.
  const n4 = Math.ceil(n / 4) * 4;
  const pages = Math.max(1, Math.ceil((16 * n4) / 65536));
  if (pages > 65536) throw new Error(`createAdam: ${n} parameters need ${(16 * n4 / 2 ** 30).toFixed(1)} GiB of optimizer memory, more than WebAssembly's 4 GiB`);
  compiled ??= new WebAssembly.Module(adamWasm());
  const memory = new WebAssembly.Memory({ initial: pages });
  const fns = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as AdamExports;
  const [w, m, v, g] = [0, 1, 2, 3].map((k) => k * 4 * n4);
  const view = (off: number) => new Float32Array(memory.buffer, off, n);
  return {
    n,
    w: view(w),
    m: view(m),
    v: view(v),
    g: view(g),
    firstNonFinite: () => fns.firstNonFinite(g, n4),
    step: (b1, a1, b2, a2, stepSize, bc2, eps) => fns.step(w, m, v, g, n4, b1, a1, b2, a2, stepSize, bc2, eps),
  };
}
