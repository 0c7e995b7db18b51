// Reads a float32 tensor's values into an array the caller keeps, instead of a new one per read. Not a runnable
// file; tested by read-into.test.ts.
//
// Why: a training step reads each phase's packed gradient back to the host (15.5 M values a step for the document's
// DCGAN), and every backend's read makes a new array of that size (wasm slices its heap, webgpu its mapped staging
// buffer). Memory that is new to the process costs a page fault per 4 KiB on first touch: ~160-300 ms a step for
// those 62 MB on the 2-vCPU VM this project is tested on, against ~5 ms to copy them into memory already in use. The
// trainer keeps one array per phase for the whole run (@gan/training's trainStep) and reads into it.
//
// Per backend: cpu copies from the backend's own array; wasm straight from its heap (the offset tfjs-backend-wasm
// 4.22 keeps per tensor); webgpu copies the buffer into a pooled staging buffer (tfjs's own pool and usage), maps
// it and copies from the mapped range (as tfjs's getBufferData does, but into `dest`); any other backend reads as
// usual and copies.
import { backend as activeBackend, getBackend, type Tensor } from '@tensorflow/tfjs-core';

/** What is used of tfjs-backend-wasm 4.22's BackendWasm, beyond its typings. */
interface WasmInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

interface GpuBufferLike {
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

/** What is used of tfjs-backend-webgpu 4.22's WebGPUBackend, beyond its typings. */
interface WebgpuInternals {
  tensorMap: { get(dataId: object): { values: ArrayLike<number> | null; resource?: unknown } | undefined };
  bufferManager: { acquireBuffer(size: number, usage: number): GpuBufferLike; releaseBuffer(b: GpuBufferLike): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  commandEncoder: { copyBufferToBuffer(src: unknown, srcOffset: number, dst: unknown, dstOffset: number, size: number): void };
  submitQueue(): void;
}

/** GPUBufferUsage.MAP_READ | COPY_DST, the usage of tfjs's read staging buffers; GPUMapMode.READ. */
const STAGING_USAGE = 0x01 | 0x08;
const MAP_READ = 1;

function check(t: Tensor, dest: Float32Array, fn: string): void {
  if (t.dtype !== 'float32') throw new Error(`${fn}: the tensor must be float32, got ${t.dtype}`);
  if (!(dest instanceof Float32Array) || dest.length < t.size) {
    throw new Error(`${fn}: dest must be a Float32Array of at least ${t.size} values, got ${dest instanceof Float32Array ? dest.length : typeof dest}`);
  }
}

/** Backends whose values can be read without waiting; readIntoSync serves them. */
function syncRead(t: Tensor, dest: Float32Array): boolean {
  const name = getBackend();
  if (name === 'wasm') {
    const b = activeBackend() as unknown as WasmInternals;
    const at = b.dataIdMap?.get(t.dataId)?.memoryOffset;
    if (at === undefined || !b.wasm?.HEAPU8) throw new Error('readInto: the wasm backend lacks dataIdMap or its heap (not tfjs-backend-wasm 4.22?)');
    dest.set(new Float32Array(b.wasm.HEAPU8.buffer, at, t.size));
    return true;
  }
  if (name === 'cpu') {
    // The cpu backend hands out its own storage: copied, not allocated.
    dest.set(t.dataSync() as Float32Array);
    return true;
  }
  return false;
}

/**
 * Copies float32 tensor `t`'s values into dest[0, t.size) without making a new array on cpu and wasm (elsewhere it
 * reads as usual, then copies). Synchronous: webgpu under Node cannot (use readInto).
 */
export function readIntoSync(t: Tensor, dest: Float32Array): void {
  check(t, dest, 'readIntoSync');
  if (!syncRead(t, dest)) dest.set(t.dataSync() as Float32Array);
}

/** readIntoSync without blocking; on webgpu also without a new array (see the file header). */
export async function readInto(t: Tensor, dest: Float32Array): Promise<void> {
  check(t, dest, 'readInto');
  if (syncRead(t, dest)) return;
  if (getBackend() !== 'webgpu') {
    dest.set((await t.data()) as Float32Array);
    return;
  }
  const b = activeBackend() as unknown as WebgpuInternals;
  const data = b.tensorMap?.get(t.dataId);
  if (!data || !b.bufferManager) throw new Error('readInto: the webgpu backend lacks tensorMap or bufferManager (not tfjs-backend-webgpu 4.22?)');
  if (data.values != null) {
    dest.set(data.values);
    return;
  }
  const bytes = 4 * t.size;
  const staging = b.bufferManager.acquireBuffer(bytes, STAGING_USAGE);
  try {
    b.ensureCommandEncoderReady();
    b.endComputePassEncoder();
    b.commandEncoder.copyBufferToBuffer(data.resource, 0, staging, 0, bytes);
    b.submitQueue();
    await staging.mapAsync(MAP_READ);
    dest.set(new Float32Array(staging.getMappedRange(), 0, t.size));
    staging.unmap();
  } finally {
    b.bufferManager.releaseBuffer(staging);
  }
}
