// A WGSL program with several outputs, run on tfjs's webgpu backend inside tfjs's own command stream (the same
// command encoder, compute pass, submit batching and buffer lifetimes as its programs). Not a runnable file; used by
// ./webgpu-batch-norm-kernels and tested through them (libs/model batch-norm.test.ts).
//
// Why: a tfjs WebGPUProgram writes one output, so values that one pass over the data yields together cost one
// dispatch each: BatchNorm's backward sums (dβ, dγ and the bias's gradient) were three passes over dy and x, its
// running mean and variance two. A tfjs kernel may return several tensors; this lets one dispatch make them.
// It relies on members of tfjs-backend-webgpu 4.22's WebGPUBackend that are not in its typings (listed in
// BackendInternals) and checks for them on first use.
import { env, type TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of a program tfjs's own WebGPUProgram would have, for several outputs. */
export interface MultiOutputProgram {
  /** WGSL names of the outputs (read-write float32 arrays), in the order of `outputShapes`. */
  outputNames: string[];
  outputShapes: number[][];
  /** WGSL names of the inputs (read-only float32 arrays), in the order of runMultiOutput's `inputs`. */
  inputNames: string[];
  /** Fields of the `uniforms` struct, all 4-byte scalars, in the order of runMultiOutput's `uniforms`. */
  uniforms: string;
  workgroupSize: [number, number, number];
  dispatch: [number, number, number];
  /** Equal keys must mean equal WGSL: the compiled pipeline is cached under it. */
  shaderKey: string;
  /**
   * WGSL defining `fn main(index : i32)`, index the global x invocation, with localId, localIndex and workgroupId in
   * scope as in tfjs's programs. Every input and output must be used (bindings are taken from what the shader uses).
   */
  getUserCode(): string;
}

interface GpuDevice {
  createShaderModule(d: { code: string }): unknown;
  createComputePipeline(d: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): GpuPipeline;
  createBindGroup(d: { layout: unknown; entries: { binding: number; resource: unknown }[] }): unknown;
  limits: { maxComputeWorkgroupsPerDimension: number };
}
interface GpuPipeline {
  getBindGroupLayout(i: number): unknown;
}
interface GpuPass {
  setPipeline(p: GpuPipeline): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y: number, z: number): void;
}

/** What is used of tfjs-backend-webgpu's WebGPUBackend (4.22), beyond its typings. */
interface BackendInternals {
  device: GpuDevice;
  makeTensorInfo(shape: number[], dtype: 'float32'): TensorInfo;
  uploadToGPU(dataId: object): void;
  tensorToBinding(t: TensorInfo): unknown;
  makeUniforms(u: { type: string; data: number[] }[]): unknown;
  commandQueueOwnedIds: WeakSet<object>;
  ensureCommandEncoderReady(): void;
  commandEncoder: { beginComputePass(d: object): GpuPass };
  computePassEncoder: GpuPass | null;
  dispatchCountInPass: number;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

const MEMBERS = ['makeTensorInfo', 'uploadToGPU', 'tensorToBinding', 'makeUniforms', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue'];

const pipelines = new WeakMap<object, Map<string, GpuPipeline>>();

function internals(backend: unknown): BackendInternals {
  const b = backend as Record<string, unknown>;
  const missing = MEMBERS.filter((m) => typeof b[m] !== 'function');
  if (missing.length || !b.device || !(b.commandQueueOwnedIds instanceof WeakSet)) {
    throw new Error(`webgpu multi-output programs: the backend lacks ${missing.join(', ') || 'device or commandQueueOwnedIds'} (not tfjs-backend-webgpu 4.22?)`);
  }
  return backend as BackendInternals;
}

function source(p: MultiOutputProgram): string {
  const out = p.outputNames.map((n, i) => `@group(0) @binding(${i}) var<storage, read_write> ${n} : array<f32>;`);
  const inp = p.inputNames.map((n, i) => `@group(0) @binding(${p.outputNames.length + i}) var<storage, read> ${n} : array<f32>;`);
  const [x, y, z] = p.workgroupSize;
  return `
      struct Uniforms { ${p.uniforms} };
      ${[...out, ...inp].join('\n      ')}
      @group(0) @binding(${out.length + inp.length}) var<uniform> uniforms : Uniforms;
      var<private> localId : vec3<u32>;
      var<private> localIndex : u32;
      var<private> workgroupId : vec3<u32>;
      ${p.getUserCode()}
      @compute @workgroup_size(${x}, ${y}, ${z})
      fn _start(@builtin(local_invocation_id) l : vec3<u32>, @builtin(local_invocation_index) li : u32,
                @builtin(workgroup_id) w : vec3<u32>, @builtin(global_invocation_id) g : vec3<u32>) {
        localId = l;
        localIndex = li;
        workgroupId = w;
        main(i32(g.x));
      }`;
}

/**
 * Records `program` on `backend` (tfjs's WebGPUBackend, the kernel call's) over `inputs` (float32, on the GPU or
 * uploaded now) and returns its outputs, new float32 tensors of `program.outputShapes`, for a kernel to return.
 * `uniforms`: one {type, data: [value]} per field of program.uniforms.
 */
export function runMultiOutput(backend: unknown, program: MultiOutputProgram, inputs: TensorInfo[], uniforms: { type: string; data: number[] }[]): TensorInfo[] {
  const b = internals(backend);
  const bad = inputs.find((t) => t.dtype !== 'float32');
  if (bad || inputs.length !== program.inputNames.length) {
    throw new Error(`${program.shaderKey}: want ${program.inputNames.length} float32 inputs, got ${inputs.map((t) => t.dtype).join(', ')}`);
  }
  const limit = b.device.limits.maxComputeWorkgroupsPerDimension;
  if (program.dispatch.some((d) => d > limit)) throw new Error(`${program.shaderKey}: dispatch [${program.dispatch}] exceeds the device's ${limit} workgroups per dimension`);
  let cache = pipelines.get(b);
  if (!cache) pipelines.set(b, (cache = new Map()));
  let pipeline = cache.get(program.shaderKey);
  if (!pipeline) {
    const module = b.device.createShaderModule({ code: source(program) });
    pipeline = b.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: '_start' } });
    cache.set(program.shaderKey, pipeline);
  }
  const outputs = program.outputShapes.map((s) => b.makeTensorInfo(s, 'float32'));
  const bound = [...outputs, ...inputs];
  for (const t of bound) {
    b.uploadToGPU(t.dataId);
    b.commandQueueOwnedIds.add(t.dataId);
  }
  const entries = [...bound.map((t) => b.tensorToBinding(t)), b.makeUniforms(uniforms)].map((resource, binding) => ({ binding, resource }));
  const group = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder.beginComputePass({});
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, group);
  b.computePassEncoder.dispatchWorkgroups(...program.dispatch);
  // Submitted in tfjs's batches, as its own programs are.
  if (++b.dispatchCountInPass >= (env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number)) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  return outputs;
}
