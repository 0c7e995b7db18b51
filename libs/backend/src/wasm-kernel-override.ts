// Replacing a kernel of tfjs's 'wasm' backend on the shared tfjs-core registry, idempotently: the one way
// @gan/backend installs its wasm kernels (conv gradients, reductions). Not a runnable file.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';

/** Marks our kernel functions, so a second installation is a no-op, not a duplicate-kernel error. */
const OURS = Symbol.for('@gan/backend/wasm-kernel');

/** True when the 'wasm' kernel registered under `kernelName` is one of ours. */
export function isOurWasmKernel(kernelName: string): boolean {
  const k = getKernel(kernelName, 'wasm');
  return !!k && (k.kernelFunc as unknown as Record<symbol, boolean>)[OURS] === true;
}

/**
 * Registers `fn` as the 'wasm' kernel `kernelName`, replacing wasm's own (whose setupFunc, binding its C++ code, is
 * kept so the replaced kernel still works when called directly). Call after `@tensorflow/tfjs-backend-wasm` has
 * been imported (it registers its kernels at import time), before or after tf.setBackend('wasm').
 * @returns installed: false when ours was already there; replaced: wasm's kernel it took the place of, if any
 */
export function overrideWasmKernel(kernelName: string, fn: KernelFunc): { installed: boolean; replaced?: KernelConfig } {
  if (isOurWasmKernel(kernelName)) return { installed: false };
  const replaced = getKernel(kernelName, 'wasm');
  if (replaced) unregisterKernel(kernelName, 'wasm');
  (fn as unknown as Record<symbol, boolean>)[OURS] = true;
  registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn, setupFunc: replaced?.setupFunc });
  return { installed: true, replaced };
}
