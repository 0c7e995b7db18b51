// BatchMatMul for the tfjs wasm backend with transposed operands made explicit: each transposed operand is first
// laid out by the wasm Transpose kernel, then wasm's own BatchMatMul runs with transposeA = transposeB = false.
//
// Why: tfjs-backend-wasm 4.22 sends only the untransposed product to XNNPACK; with transposeA or transposeB set it
// runs a scalar loop 15-25× slower (256×128×128: 0.44 ms plain, 11.0 ms transposeA, 7.7 ms transposeB at one
// thread). Every linear layer's backward pass asks for both (dW = xᵀ·dy, dx = dy·Wᵀ), so the MLP model spent 74 %
// of its step there. A transpose moves m·k values for m·k·n multiply-adds, so doing it first is always cheaper.
// The product is the same sum in the same order inside XNNPACK, so results do not depend on the flags.
// Tests: node tools/run-tests.mjs libs/backend
import { BatchMatMul, getKernel, Transpose, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { isOurWasmKernel, overrideWasmKernel } from './wasm-kernel-override';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
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
 * BatchMatMul for 'wasm': a [..., m, k] (or [..., k, m] when transposeA), b [..., k, n] (or [..., n, k] when
 * transposeB) → [..., m, n], batch dims broadcast as tfjs does.
 */
export const batchMatMulWasm: KernelFunc = (args) => {
  if (!wasmBatchMatMul) throw new Error('@gan/backend BatchMatMul used before registerWasmMatMulKernel()');
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  if (!transposeA && !transposeB) return wasmBatchMatMul(args);
  const backend = args.backend as unknown as WasmBackendLike;
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
