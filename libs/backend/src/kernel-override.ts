// Replacing a kernel of a tfjs backend on the shared tfjs-core registry, idempotently: the one way @gan/backend
// installs its kernels in place of a backend's own (wasm's conv gradients and reductions, webgpu's channel sums).
// Not a runnable file.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';

/** Marks our kernel functions, so a second installation is a no-op, not a duplicate-kernel error. */
const OURS = Symbol.for('@gan/backend/kernel');

/** True when the `backendName` kernel registered under `kernelName` is one of ours. */
export function isOurKernel(backendName: string, kernelName: string): boolean {
  const k = getKernel(kernelName, backendName);
  return !!k && (k.kernelFunc as unknown as Record<symbol, boolean>)[OURS] === true;
}

/**
 * Registers `fn` as `backendName`'s kernel `kernelName`, replacing the backend's own (whose setupFunc, binding wasm's
 * C++ code, is kept so the replaced kernel still works when called directly). Call after the backend's package has
 * been imported (it registers its kernels at import time), before or after tf.setBackend.
 * @returns installed: false when ours was already there; replaced: the backend's kernel it took the place of, if any
 */
export function overrideKernel(backendName: string, kernelName: string, fn: KernelFunc): { installed: boolean; replaced?: KernelConfig } {
  if (isOurKernel(backendName, kernelName)) return { installed: false };
  const replaced = getKernel(kernelName, backendName);
  if (replaced) unregisterKernel(kernelName, backendName);
  (fn as unknown as Record<symbol, boolean>)[OURS] = true;
  registerKernel({ kernelName, backendName, kernelFunc: fn, setupFunc: replaced?.setupFunc });
  return { installed: true, replaced };
}

/** overrideKernel for 'wasm'. */
export const overrideWasmKernel = (kernelName: string, fn: KernelFunc) => overrideKernel('wasm', kernelName, fn);

/** isOurKernel for 'wasm'. */
export const isOurWasmKernel = (kernelName: string): boolean => isOurKernel('wasm', kernelName);
