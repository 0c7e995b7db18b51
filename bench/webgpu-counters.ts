/**
 * What one training step costs the webgpu backend structurally, counted on the live tfjs-backend-webgpu (4.22)
 * instance: GPU program dispatches, read-backs (host ← GPU synchronisations) and bytes read back, uploads (host →
 * GPU) and bytes uploaded, and queue submits. bench/product-step.ts counts the product's timed steps with it; the
 * product itself is not changed, its own methods are wrapped on the backend object for the bench's process only.
 * Not runnable by itself: `npm run bench:step -- --backend webgpu` prints the counts (node tools/run-tests.mjs bench
 * checks them on whatever adapter exists).
 *
 * Where each count is taken, and why there:
 * - dispatches: GPUComputePassEncoder's dispatchWorkgroups, which every program calls once, tfjs's (through
 *   recordAndSubmit) and @gan/backend's several-output ones (which bypass recordAndSubmit); ops that tfjs forwards to
 *   its CPU kernels (small inputs) dispatch nothing.
 * - read-backs: GPUBuffer's mapAsync for reading, which every read of GPU data awaits (tfjs's data(), through
 *   getBufferData, and @gan/backend's readInto; bytes: the staging buffer's size), and readSync when the tensor has
 *   no host copy (it needs OffscreenCanvas, so under Node it throws; counting it shows who tried). A read of a
 *   tensor already on the host costs nothing: not counted.
 * - uploads: uploadToGPU when the tensor has host values and no GPU buffer yet (the trainer's batch and z), and
 *   GPUQueue's writeBuffer into a storage buffer (@gan/backend's uploadNow: the weights the optimiser updated on the
 *   host); tfjs's own writeBuffers fill uniform buffers, which are not counted.
 * - submits: submitQueue (one per WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches, plus one per read-back).
 */

/** Per-step counts; see the file header for where each is taken. */
export interface StepCounts {
  dispatches: number;
  readbacks: number;
  bytesRead: number;
  uploads: number;
  bytesUploaded: number;
  submits: number;
}

interface TensorData {
  values?: ArrayLike<number> | null;
  resource?: unknown;
  dtype: string;
  shape: number[];
}

/** The members of tfjs-backend-webgpu's WebGPUBackend that are wrapped (present since 4.x). */
interface WebGpuBackendLike {
  tensorMap: { get(dataId: object): TensorData | undefined };
  readSync(dataId: object): unknown;
  uploadToGPU(dataId: object): void;
  submitQueue(): void;
}

const WRAPPED = ['readSync', 'uploadToGPU', 'submitQueue'] as const;

interface PassEncoderPrototype {
  dispatchWorkgroups(...args: unknown[]): unknown;
}

interface QueuePrototype {
  writeBuffer(buffer: { usage: number }, offset: number, data: { byteLength: number }, ...rest: unknown[]): unknown;
}

interface BufferPrototype {
  mapAsync(this: { size: number }, mode: number, ...rest: unknown[]): Promise<unknown>;
}

/** GPUBufferUsage.STORAGE: a tensor's buffer, as opposed to a uniform buffer. GPUMapMode.READ. */
const STORAGE = 0x80;
const MAP_READ = 1;

export function zeroCounts(): StepCounts {
  return { dispatches: 0, readbacks: 0, bytesRead: 0, uploads: 0, bytesUploaded: 0, submits: 0 };
}

/** a − b, field by field. */
export function diffCounts(a: StepCounts, b: StepCounts): StepCounts {
  const d = zeroCounts();
  for (const k of Object.keys(d) as (keyof StepCounts)[]) d[k] = a[k] - b[k];
  return d;
}

/**
 * Starts counting on `backend` (tf.backend() while 'webgpu' is active). Returns the running totals (read them
 * before and after a step) and `stop`, which puts the backend's own methods back.
 * @throws Error when `backend` lacks a method this expects (another tfjs-backend-webgpu version: update this file)
 */
export function countWebgpu(backend: object): { totals: StepCounts; stop(): void } {
  const b = backend as WebGpuBackendLike;
  const missing = WRAPPED.filter((m) => typeof (b as unknown as Record<string, unknown>)[m] !== 'function');
  const pass = (globalThis as { GPUComputePassEncoder?: { prototype: PassEncoderPrototype } }).GPUComputePassEncoder?.prototype;
  const queue = (globalThis as { GPUQueue?: { prototype: QueuePrototype } }).GPUQueue?.prototype;
  const gpuBuffer = (globalThis as { GPUBuffer?: { prototype: BufferPrototype } }).GPUBuffer?.prototype;
  if (missing.length || typeof b.tensorMap?.get !== 'function' || typeof pass?.dispatchWorkgroups !== 'function' || typeof queue?.writeBuffer !== 'function'
    || typeof gpuBuffer?.mapAsync !== 'function') {
    throw new Error(`webgpu counters: no ${[...missing, 'tensorMap', 'GPUComputePassEncoder', 'GPUQueue', 'GPUBuffer'].join(', ')} (tfjs-backend-webgpu or webgpu changed?)`);
  }
  const totals = zeroCounts();
  // Own properties shadow the prototype's methods; deleting them in stop() restores the originals exactly.
  const own = b as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(b) as WebGpuBackendLike;
  const dispatch = pass.dispatchWorkgroups;
  pass.dispatchWorkgroups = function (this: unknown, ...args: unknown[]) {
    totals.dispatches += 1;
    return dispatch.apply(this, args);
  };
  const writeBuffer = queue.writeBuffer;
  queue.writeBuffer = function (this: unknown, buffer, offset, data, ...rest) {
    if (buffer.usage & STORAGE) {
      totals.uploads += 1;
      totals.bytesUploaded += data.byteLength;
    }
    return writeBuffer.call(this, buffer, offset, data, ...rest);
  };
  const mapAsync = gpuBuffer.mapAsync;
  gpuBuffer.mapAsync = function (this: { size: number }, mode: number, ...rest: unknown[]) {
    if (mode & MAP_READ) {
      totals.readbacks += 1;
      totals.bytesRead += this.size;
    }
    return mapAsync.call(this, mode, ...rest);
  };
  own.readSync = function (this: WebGpuBackendLike, dataId: object) {
    const d = this.tensorMap.get(dataId);
    if (d && d.values == null && d.dtype !== 'string' && d.dtype !== 'complex64') {
      totals.readbacks += 1;
      totals.bytesRead += 4 * d.shape.reduce((x, y) => x * y, 1);
    }
    return proto.readSync.call(this, dataId);
  };
  own.uploadToGPU = function (this: WebGpuBackendLike, dataId: object) {
    const d = this.tensorMap.get(dataId);
    if (d && d.resource == null && d.values != null) {
      totals.uploads += 1;
      totals.bytesUploaded += 4 * d.shape.reduce((x, y) => x * y, 1);
    }
    return proto.uploadToGPU.call(this, dataId);
  };
  own.submitQueue = function (this: WebGpuBackendLike) {
    totals.submits += 1;
    return proto.submitQueue.call(this);
  };
  return {
    totals,
    stop() {
      for (const m of WRAPPED) delete own[m];
      pass.dispatchWorkgroups = dispatch;
      queue.writeBuffer = writeBuffer;
      gpuBuffer.mapAsync = mapAsync;
    },
  };
}
