// Identity for the tfjs wasm backend that shares its input's buffer (a reference count, as the cpu backend and
// wasm's own Reshape do) instead of copying it.
//
// Why: tfjs-core's gradient tape saves every tensor a backward pass will need through an Identity kernel
// (engine.clone), and wasm's Identity copies the bytes. Tensor data is never written after its kernel returns
// (Variable.assign swaps in a new buffer), so the copy buys nothing: in the MLP step it was 94 kernels and 7 % of
// the kernel time, and in the DCGAN steps a copy of every saved activation.
// Tests: node tools/run-tests.mjs libs/backend
import { getKernel, Identity, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { isOurWasmKernel, overrideWasmKernel } from './kernel-override';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  incRef(dataId: object): void;
}

/** wasm's own Identity, kept for string tensors (which live outside the wasm heap). */
let wasmIdentity: KernelFunc | null = null;

/** Identity for 'wasm': the same dataId, one more reference; disposing either tensor leaves the other intact. */
export const identityWasm: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return wasmIdentity!(args);
  (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

/**
 * Replaces wasm's Identity on the shared tfjs-core kernel registry. Idempotent (see overrideWasmKernel).
 * @returns whether this call installed it
 */
export function registerWasmIdentityKernel(): { registered: boolean } {
  if (!isOurWasmKernel(Identity) && !getKernel(Identity, 'wasm')) {
    throw new Error('wasm backend has no Identity kernel to wrap; import @tensorflow/tfjs-backend-wasm first');
  }
  const r = overrideWasmKernel(Identity, identityWasm);
  if (r.installed) wasmIdentity = r.replaced!.kernelFunc;
  return { registered: r.installed };
}

/** True when this module's Identity is the one registered for 'wasm'. */
export function wasmIdentityKernelRegistered(): boolean {
  return isOurWasmKernel(Identity);
}
