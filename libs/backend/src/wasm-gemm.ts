/**
 * Float32 matrix products C = op(A)·op(B) (op: as stored or transposed) with the WebAssembly SIMD kernels of
 * wasm/gemm.wat (compiled by tools/build-wasm.mjs), single-threaded, in the order XNNPACK adds in, so that the bits
 * equal tfjs-backend-wasm's BatchMatMul (see the .wat's header; the tests compare them). The operands are copied into
 * the kernel's own memory first (tfjs's heap is not importable: shared in its threaded build, private in the other):
 * ~0.1 ns a value, about one multiply-add's time, while each value takes part in k or more of them.
 * Used by ./wasm-matmul-kernel. Not a runnable file.
 */
import { gemmWasm } from './wasm/generated/gemm.wasm';

interface GemmExports {
  transpose(src: number, dst: number, rows: number, cols: number): void;
  gemm(a: number, sar: number, sak: number, b: number, ldb: number, w: number, c: number, ldc: number, m: number, k: number, n: number): void;
  gemmColumns(at: number, b: number, sbk: number, sbj: number, c: number, ldc: number, m: number, k: number, n: number): void;
}

let kernel: { fns: GemmExports; memory: WebAssembly.Memory } | null = null;

/** Products with fewer output columns than this go to gemmColumns (one column of C at a time, A read as Aᵀ). */
export const FEW_COLUMNS = 8;

/** Byte offsets in the kernel's memory for `sizes` float32 regions, each 16-byte aligned, grown to fit. */
function layout(sizes: readonly number[]): { offsets: number[]; memory: WebAssembly.Memory; fns: GemmExports } {
  if (!kernel) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const fns = new WebAssembly.Instance(new WebAssembly.Module(gemmWasm()), { env: { memory } }).exports as unknown as GemmExports;
    kernel = { fns, memory };
  }
  const offsets: number[] = [];
  let end = 0;
  for (const n of sizes) {
    offsets.push(end);
    end += Math.ceil((n * 4) / 16) * 16;
  }
  const have = kernel.memory.buffer.byteLength;
  if (end > have) kernel.memory.grow(Math.ceil((end - have) / 65536));
  return { offsets, ...kernel };
}

/** The shapes of one product: op(A) [m, k], op(B) [k, n]. */
export interface GemmShape {
  m: number;
  k: number;
  n: number;
  /** A is stored [k, m] (op(A) = Aᵀ) rather than [m, k]. */
  transposeA: boolean;
  /** B is stored [n, k] (op(B) = Bᵀ) rather than [k, n]. */
  transposeB: boolean;
}

/**
 * out [m, n] = op(A)·op(B). `a` holds m·k values (stored [m, k], or [k, m] when transposeA), `b` k·n values
 * (stored [k, n], or [n, k] when transposeB); each a view into any memory. Every output is Σ_k in increasing k
 * from 0, a rounded multiply and a rounded add per step.
 */
export function gemm(a: Float32Array, b: Float32Array, out: Float32Array, s: GemmShape): void {
  const { m, k, n, transposeA, transposeB } = s;
  for (const [name, v] of [['m', m], ['k', k], ['n', n]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`gemm: ${name} must be a positive integer, got ${v}`);
  }
  if (a.length < m * k || b.length < k * n || out.length < m * n) {
    throw new Error(`gemm: arrays too short for [${m}, ${k}]·[${k}, ${n}] (a ${a.length}, b ${b.length}, out ${out.length})`);
  }
  const few = n < FEW_COLUMNS;
  // Few columns: A is read transposed ([k, m], so that eight rows of C are one pair of vectors), B in place.
  // Otherwise: A in place through its strides, B row-major [k, n].
  const scratch = few ? (transposeA ? 0 : m * k) : transposeB ? k * n : 0;
  const panels = few ? 0 : k * (n - (n % 8));
  const { offsets, memory, fns } = layout([m * k, k * n, m * n, scratch, panels]);
  const [pa, pb, pc, ps, pw] = offsets;
  const buf = memory.buffer;
  new Float32Array(buf, pa, m * k).set(a.subarray(0, m * k));
  new Float32Array(buf, pb, k * n).set(b.subarray(0, k * n));
  if (few) {
    let at = pa;
    if (!transposeA) {
      fns.transpose(pa, ps, m, k);
      at = ps;
    }
    // B(k, j): stored [k, n] at k·n + j, or [n, k] at j·k + k.
    if (transposeB) fns.gemmColumns(at, pb, 1, k, pc, n, m, k, n);
    else fns.gemmColumns(at, pb, n, 1, pc, n, m, k, n);
  } else {
    let bp = pb;
    if (transposeB) {
      fns.transpose(pb, ps, n, k);
      bp = ps;
    }
    if (transposeA) fns.gemm(pa, 1, m, bp, n, pw, pc, n, m, k, n);
    else fns.gemm(pa, k, 1, bp, n, pw, pc, n, m, k, n);
  }
  out.set(new Float32Array(buf, pc, m * n));
}
