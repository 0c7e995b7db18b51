// Puts a new tensor's values on the GPU at once through queue.writeBuffer, so its caller may reuse the array. Not a
// runnable file; tested by webgpu-upload.test.ts, and used by @gan/model's setFlatWeights for every weight, every step.
//
// Why: tfjs's webgpu backend keeps a new tensor's array until a kernel first reads it, so a caller that reuses the
// array (the optimisers update their weights in place) must hand it a copy, and its upload then maps a new staging
// buffer each time (created, zeroed, filled, copied, destroyed). For the document's G, 12.7 M weights a step, that
// was ~130 ms of copies and ~180 ms of uploads on lavapipe. writeBuffer copies into Dawn's own reused staging
// memory, and the storage buffer comes from tfjs's pool (the same sizes every step). Ordering is the queue's: the
// write lands before any later submit, and tfjs returns a buffer to its pool only after the commands that used it
// were submitted (the same pattern tfjs's own uniforms use).
import { getBackend, backend as activeBackend, type TensorInfo } from '@tensorflow/tfjs-core';

/** What is used of tfjs-backend-webgpu's WebGPUBackend (4.22), beyond its typings. */
interface UploadInternals {
  tensorMap: { get(dataId: object): { values: ArrayBufferView | null; resource?: unknown; dtype: string; shape: number[] } | undefined };
  bufferManager: { acquireBuffer(size: number, usage: number): unknown };
  queue: { writeBuffer(buffer: unknown, offset: number, data: ArrayBufferView): void };
}

let scratch = new Uint8Array(0);

/**
 * `values`, or, when they live in a SharedArrayBuffer (the optimisers' memory), a copy in a reused scratch array:
 * Dawn's Node binding crashes the process on a shared buffer (seen with webgpu 0.6.2), and a fresh copy of every
 * weight each step would cost the allocations this file exists to avoid.
 */
function writable(values: ArrayBufferView): ArrayBufferView {
  if (!(values.buffer instanceof SharedArrayBuffer)) return values;
  if (scratch.byteLength < values.byteLength) scratch = new Uint8Array(values.byteLength);
  const out = scratch.subarray(0, values.byteLength);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return out;
}

/** GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST: what tfjs gives a tensor's buffer. */
const TENSOR_USAGE = 0x80 | 0x04 | 0x08;

/**
 * On webgpu, writes float32 tensor `t`'s values (still on the host) into a GPU buffer now; elsewhere, or once they
 * are on the GPU, does nothing. Returns whether it wrote.
 */
export function uploadNow(t: TensorInfo): boolean {
  if (getBackend() !== 'webgpu' || t.dtype !== 'float32') return false;
  const b = activeBackend() as unknown as UploadInternals;
  if (!b.tensorMap || !b.bufferManager || !b.queue) throw new Error('uploadNow: the webgpu backend lacks tensorMap, bufferManager or queue (not tfjs-backend-webgpu 4.22?)');
  const data = b.tensorMap.get(t.dataId);
  if (!data || data.resource != null || data.values == null || data.values.byteLength === 0) return false;
  const buffer = b.bufferManager.acquireBuffer(data.values.byteLength, TENSOR_USAGE);
  b.queue.writeBuffer(buffer, 0, writable(data.values));
  data.resource = buffer;
  data.values = null;
  return true;
}
