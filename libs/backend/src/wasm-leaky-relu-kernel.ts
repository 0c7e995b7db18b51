// LeakyRelu for the tfjs wasm backend as wasm's Prelu (XNNPACK) with a per-channel slope vector filled with α.
//
// Why: tfjs-backend-wasm 4.22's LeakyRelu is a scalar loop that branches on every value: 3.2 ms for the 524 K
// activations of one small-DCGAN D layer at batch 64, against 0.13 ms for XNNPACK's PReLU on the same tensor, and D
// runs it on every layer of three passes a step. PReLU with every slope α computes x for x > 0 and α·x otherwise,
// the same single rounding as LeakyRelu (the tests compare bits with wasm's own kernel and with cpu).
// The slope vectors are kept, one per (channels, α), for the life of the backend: XNNPACK keeps the PReLU operator it
// built for a slope buffer, and a run has a handful of layer widths.
// Tests: node tools/run-tests.mjs libs/backend wasm-leaky-relu
import { getKernel, LeakyRelu, Prelu, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { callWasmKernel, type WasmBackendLike } from './wasm-kernel-call';
import { isOurWasmKernel, overrideWasmKernel } from './kernel-override';

/** wasm's own LeakyRelu, kept for what Prelu does not take (non-float32, scalars). */
let wasmLeakyRelu: KernelFunc | null = null;

/** Slope vectors per backend, keyed `${channels}:${alpha}`. */
const slopes = new WeakMap<object, Map<string, TensorInfo>>();

function slopeVector(b: WasmBackendLike, channels: number, alpha: number): TensorInfo {
  let perBackend = slopes.get(b);
  if (!perBackend) slopes.set(b, (perBackend = new Map()));
  const key = `${channels}:${alpha}`;
  let s = perBackend.get(key);
  if (!s || !b.dataIdMap.has(s.dataId)) {
    s = b.makeOutput([channels], 'float32');
    (b.typedArrayFromHeap(s) as Float32Array).fill(alpha);
    perBackend.set(key, s);
  }
  return s;
}

/** LeakyRelu for 'wasm': x [..., C] → the same shape, max-free: x for x > 0, α·x otherwise. */
export const leakyReluWasm: KernelFunc = (args) => {
  if (!wasmLeakyRelu) throw new Error('@gan/backend LeakyRelu used before registerWasmLeakyReluKernel()');
  const { x } = args.inputs as { x: TensorInfo };
  const { alpha } = args.attrs as unknown as { alpha: number };
  if (x.dtype !== 'float32' || x.shape.length === 0) return wasmLeakyRelu(args);
  const b = args.backend as unknown as WasmBackendLike;
  return callWasmKernel(b, Prelu, { x, alpha: slopeVector(b, x.shape[x.shape.length - 1], alpha) });
};

/**
 * Replaces wasm's LeakyRelu on the shared tfjs-core kernel registry. Idempotent (see overrideWasmKernel).
 * @returns whether this call installed it
 */
export function registerWasmLeakyReluKernel(): { registered: boolean } {
  if (!isOurWasmKernel(LeakyRelu) && !getKernel(LeakyRelu, 'wasm')) {
    throw new Error('wasm backend has no LeakyRelu kernel to wrap; import @tensorflow/tfjs-backend-wasm first');
  }
  const r = overrideWasmKernel(LeakyRelu, leakyReluWasm);
  if (r.installed) wasmLeakyRelu = r.replaced!.kernelFunc;
  return { registered: r.installed };
}

/** True when this module's LeakyRelu is the one registered for 'wasm'. */
export function wasmLeakyReluKernelRegistered(): boolean {
  return isOurWasmKernel(LeakyRelu);
}
