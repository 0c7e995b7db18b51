// BatchMatMul for the tfjs wasm backend: products of single matrices by @gan/backend's own SIMD GEMM (./wasm-gemm),
// the rest by wasm's own (XNNPACK) kernel with transposed operands made explicit first.
//
// Why: tfjs-backend-wasm 4.22 sends only the untransposed product to XNNPACK; with transposeA or transposeB set it
// runs a scalar loop 15-25× slower (256×128×128: 0.44 ms plain, 11.0 ms transposeA, 7.7 ms transposeB at one
// thread), and every linear layer's backward pass asks for both (dW = xᵀ·dy, dx = dy·Wᵀ). XNNPACK itself packs the
// right operand before each product (every operand is new in a training step) and has no route for one or two output
// columns (a layer with one output). ./wasm-gemm reads transposed operands in place, packs in one pass, and has a
// column kernel: the MLP step's products took 7.9 ms of its 11.3 at one thread that way (transposes included).
// Both add each output's terms in the same order, so the bits do not depend on which ran (the tests compare them).
// With more than one thread, XNNPACK's threaded GEMM keeps the products above ~1 M multiply-adds; batched products
// (batch dims other than 1), outer products (k = 1) and few-column products of an untransposed A stay with it too.
// Tests: node tools/run-tests.mjs libs/backend
import { BatchMatMul, getKernel, Transpose, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { FEW_COLUMNS, gemm } from './wasm-gemm';
import { isOurWasmKernel, overrideWasmKernel } from './kernel-override';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: TensorInfo['dtype']): TensorInfo;
  /** a view of the tensor's bytes in wasm memory: valid until the next allocation (memory may grow) */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** wasm's thread count (XNNPACK's pool), set by initBackend once the backend is up. */
let poolThreads = 1;

/** Tells the kernel how many threads wasm's XNNPACK runs on (initBackend calls it; 1 until then). */
export function setWasmMatMulThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`setWasmMatMulThreads: threads must be a positive integer, got ${threads}`);
  poolThreads = threads;
}

/**
 * Multiply-adds below which a product stays on one thread even when XNNPACK has more: handing work to the pool
 * costs more than such a product takes.
 */
const POOL_WORTH = 1 << 20;

/** The product's sizes when @gan/backend's GEMM takes it: float32, every batch dim 1; else null. */
function ownGemmShape(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): { m: number; k: number; n: number } | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  if (a.shape.slice(0, -2).some((d) => d !== 1) || b.shape.slice(0, -2).some((d) => d !== 1)) return null;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k || m * k * n === 0) return null;
  // Few columns: the column kernel wins only where it reads a transposed A in place (a layer with one or two outputs,
  // its weight gradient: 7-28× faster than the transpose + XNNPACK); with A as stored XNNPACK is as fast.
  if (n < FEW_COLUMNS) return transposeA ? { m, k, n } : null;
  // k = 1 is an outer product, all output: XNNPACK writes it straight into tfjs's heap, this GEMM copies it there.
  if (k === 1) return null;
  if (poolThreads > 1 && m * k * n > POOL_WORTH) return null;
  return { m, k, n };
}

/** wasm's own BatchMatMul, which this kernel calls untransposed. */
let wasmBatchMatMul: KernelFunc | null = null;

/** x [..., r, c] → a new [..., c, r] (the last two axes swapped). */
function swapLastTwo(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const k = getKernel(Transpose, 'wasm');
  if (!k) throw new Error('wasm backend has no Transpose kernel, needed by @gan/backend BatchMatMul');
  const rank = x.shape.length;
  const perm = [...x.shape.keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return k.kernelFunc({ inputs: { x }, backend, attrs: { perm } as unknown as NamedAttrMap }) as TensorInfo;
}

/**
 * wasm's own BatchMatMul (XNNPACK for a float32 product) on untransposed operands a [..., m, k] and b [..., k, n]:
 * the product this kernel hands large products to when wasm runs threads, and the one its own GEMM's bits are
 * compared with. Returns a new [..., m, n] the caller owns.
 */
export function xnnMatMul(backend: object, a: TensorInfo, b: TensorInfo): TensorInfo {
  if (!wasmBatchMatMul) throw new Error('@gan/backend BatchMatMul used before registerWasmMatMulKernel()');
  return wasmBatchMatMul({ inputs: { a, b }, backend: backend as never, attrs: { transposeA: false, transposeB: false } as unknown as NamedAttrMap }) as TensorInfo;
}

/**
 * BatchMatMul for 'wasm': a [..., m, k] (or [..., k, m] when transposeA), b [..., k, n] (or [..., n, k] when
 * transposeB) → [..., m, n], batch dims broadcast as tfjs does.
 */
export const batchMatMulWasm: KernelFunc = (args) => {
  if (!wasmBatchMatMul) throw new Error('@gan/backend BatchMatMul used before registerWasmMatMulKernel()');
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const backend = args.backend as unknown as WasmBackendLike;
  const own = ownGemmShape(a, b, transposeA, transposeB);
  if (own) {
    const rank = Math.max(a.shape.length, b.shape.length);
    const out = backend.makeOutput([...new Array<number>(rank - 2).fill(1), own.m, own.n], 'float32');
    // Views are taken after makeOutput: an allocation may grow (and so move) the wasm heap.
    gemm(backend.typedArrayFromHeap(a) as Float32Array, backend.typedArrayFromHeap(b) as Float32Array, backend.typedArrayFromHeap(out) as Float32Array, { ...own, transposeA, transposeB });
    return out;
  }
  if (!transposeA && !transposeB) return wasmBatchMatMul(args);
  const at = transposeA ? swapLastTwo(backend, a) : a;
  const bt = transposeB ? swapLastTwo(backend, b) : b;
  try {
    return wasmBatchMatMul({ ...args, inputs: { a: at, b: bt }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  } finally {
    if (at !== a) backend.disposeData(at.dataId);
    if (bt !== b) backend.disposeData(bt.dataId);
  }
};

/**
 * Replaces wasm's BatchMatMul on the shared tfjs-core kernel registry. Idempotent (see overrideWasmKernel).
 * @returns whether this call installed it
 */
export function registerWasmMatMulKernel(): { registered: boolean } {
  if (!isOurWasmKernel(BatchMatMul) && !getKernel(BatchMatMul, 'wasm')) {
    throw new Error('wasm backend has no BatchMatMul kernel to wrap; import @tensorflow/tfjs-backend-wasm first');
  }
  const r = overrideWasmKernel(BatchMatMul, batchMatMulWasm);
  if (r.installed) wasmBatchMatMul = r.replaced!.kernelFunc;
  return { registered: r.installed };
}

/** True when this module's BatchMatMul is the one registered for 'wasm'. */
export function wasmMatMulKernelRegistered(): boolean {
  return isOurWasmKernel(BatchMatMul);
}
