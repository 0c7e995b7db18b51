// Calling another 'wasm' kernel from inside one of @gan/backend's wasm kernels, and releasing its intermediates:
// the one way the conv gradient kernels compose wasm's Conv2D, BatchMatMul, Transpose and Slice. Not a runnable file.
import { getKernel, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm that composing kernels touch. */
export interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  /** a view of the tensor's bytes in wasm memory: valid until the next allocation (memory may grow) */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** the backend's live data: a disposed tensor's dataId is no longer in it */
  dataIdMap: { has(dataId: object): boolean };
}

/** Runs the 'wasm' kernel `kernelName` (whatever is registered under it, ours included) and returns its one output. */
export function callWasmKernel(backend: WasmBackendLike, kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const k = getKernel(kernelName, 'wasm');
  if (!k) throw new Error(`wasm backend has no ${kernelName} kernel, needed by @gan/backend's wasm kernels`);
  const out = k.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm ${kernelName} returned several outputs, expected one`);
  return out as TensorInfo;
}

/** Releases intermediates made by callWasmKernel. */
export function freeAll(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** The same bytes seen with another shape of the same size (a view for one kernel call; never disposed itself). */
export function viewAs(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}
