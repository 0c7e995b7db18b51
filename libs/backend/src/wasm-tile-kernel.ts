// Tile for the tfjs wasm backend: when only leading size-1 axes are repeated (a [1,…,1,d…] block copied k times,
// the shape Sum's and Mean's gradients broadcast back with, see ./reduce-gradients), the output is the input's
// bytes repeated, written by doubling memory copies; any other tiling goes to wasm's own kernel.
//
// Why: wasm's Tile computes an index per output value: 44 ms to repeat a 32-vector into 64×16×16×32, against
// ~0.3 ms for the copies. The values are moved, never computed (the tests compare with cpu's Tile).
// Tests: node tools/run-tests.mjs libs/backend reduce-gradients
import { getKernel, Tile, util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { isOurWasmKernel, overrideWasmKernel } from './kernel-override';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: TensorInfo['dtype']): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** wasm's own Tile, for the general case. */
let wasmTile: KernelFunc | null = null;

/** True when tiling x by reps only repeats x's whole data: every repeated axis, and all before it, have size 1. */
export function tileIsRepeat(shape: readonly number[], reps: readonly number[]): boolean {
  const last = reps.findLastIndex((r) => r !== 1);
  return shape.slice(0, last + 1).every((d) => d === 1);
}

export const tileWasm: KernelFunc = (args) => {
  if (!wasmTile) throw new Error('@gan/backend Tile used before registerWasmTileKernel()');
  const { x } = args.inputs as { x: TensorInfo };
  const { reps } = args.attrs as unknown as { reps: number[] };
  if (x.dtype === 'string' || x.dtype === 'complex64' || reps.length !== x.shape.length || !tileIsRepeat(x.shape, reps)) return wasmTile(args);
  const b = args.backend as unknown as WasmBackendLike;
  const out = b.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
  // Views after the allocation: it may grow wasm memory and detach earlier views.
  const src = b.typedArrayFromHeap(x);
  const dst = b.typedArrayFromHeap(out);
  const total = util.sizeFromShape(out.shape);
  if (src.length === 0 || total === 0) return out;
  dst.set(src, 0);
  for (let filled = src.length; filled < total; filled += Math.min(filled, total - filled)) dst.copyWithin(filled, 0, Math.min(filled, total - filled));
  return out;
};

/**
 * Replaces wasm's Tile on the shared tfjs-core kernel registry. Idempotent (see overrideWasmKernel).
 * @returns whether this call installed it
 */
export function registerWasmTileKernel(): { registered: boolean } {
  if (!isOurWasmKernel(Tile) && !getKernel(Tile, 'wasm')) {
    throw new Error('wasm backend has no Tile kernel to wrap; import @tensorflow/tfjs-backend-wasm first');
  }
  const r = overrideWasmKernel(Tile, tileWasm);
  if (r.installed) wasmTile = r.replaced!.kernelFunc;
  return { registered: r.installed };
}

/** True when this module's Tile is the one registered for 'wasm'. */
export function wasmTileKernelRegistered(): boolean {
  return isOurWasmKernel(Tile);
}
