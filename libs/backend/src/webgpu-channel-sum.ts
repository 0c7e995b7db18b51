// What @gan/backend's WGSL kernels share: the per-channel sum every reduction of theirs is built on (channels-last data
// read as rows of C values; one workgroup of 16 channels × 16 lanes; lane l sums rows l, l + 16, … in order with
// Kahan's compensation, then the 16 lane sums are added as a tree), and the glue to run a program on tfjs's webgpu
// backend. Not a runnable file; the sums are tested by webgpu-batch-norm-kernels.test.ts.
//
// Why compensated: BatchNorm's Σ dy·x̂ and a bias gradient are sums of ~10⁵ terms that nearly cancel, where a plain
// float32 sum loses most of the result's digits (PyTorch on CPU sums in float64, and so do @gan/backend's wasm
// reductions). The shader compiler folds Kahan's (t − s) − v to 0 as written, so t passes through a bitcast XOR a
// uniform that is always 0, which it cannot see through.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const LANES = 16;
export const CHANNELS_PER_GROUP = 16;

/** The uniforms a channel-sum program declares first, in this order (see channelSumUniforms). */
export const CHANNEL_SUM_UNIFORMS = 'rows : i32, channels : i32, zero : u32,';

/** Their values for `rows` × `channels` data. */
export const channelSumUniforms = (rows: number, channels: number) => [i32(rows), i32(channels), { type: 'uint32', data: [0] }];

/**
 * WGSL for the start of a channel-sum program: the workgroup's scratch for `sums` sums at once (part0, part1, …) and
 * `main` with R, C, c (this thread's channel) and lane in scope, then `body`.
 */
export function channelSumMain(variableNames: string[], body: string, sums = 1): string {
  const scratch = Array.from({ length: sums }, (_, k) => `var<workgroup> part${k} : array<f32, ${CHANNELS_PER_GROUP * LANES}>;`);
  return `
      ${scratch.join('\n      ')}
      fn main(index : i32) {
        ${touchAll(variableNames)}
        let R = uniforms.rows;
        let C = uniforms.channels;
        let c = i32(workgroupId.x) * ${CHANNELS_PER_GROUP} + i32(localId.x);
        let lane = i32(localId.y);
        ${body}
      }`;
}

/**
 * WGSL (inside channelSumMain with as many sums) that sums each of `exprs` over the rows of channel c, in one pass,
 * with i = r·C + c and whatever `perRow` declares (statements run once per row) in scope for them; after it every
 * thread of the workgroup reads the channel's k-th sum as part{k}[localId.x]. Every thread must reach it (barriers).
 */
export function laneSums(exprs: string[], perRow = ''): string {
  const each = (f: (k: number) => string) => exprs.map((_, k) => f(k)).join('\n            ');
  return `
        ${exprs.map((_, k) => `var s${k} = 0.0; var lost${k} = 0.0;`).join(' ')}
        if (c < C) {
          for (var r = lane; r < R; r = r + ${LANES}) {
            let i = r * C + c;
            ${perRow}
            ${each((k) => `{ let v = ${exprs[k]} - lost${k}; let t = bitcast<f32>(bitcast<u32>(s${k} + v) ^ uniforms.zero); lost${k} = (t - s${k}) - v; s${k} = t; }`)}
          }
        }
        ${each((k) => `part${k}[localIndex] = s${k} - lost${k};`)}
        workgroupBarrier();
        for (var h = ${LANES / 2}u; h > 0u; h = h >> 1u) {
          if (localId.y < h) {
            ${each((k) => `part${k}[localIndex] = part${k}[localIndex] + part${k}[localIndex + h * ${CHANNELS_PER_GROUP}u];`)}
          }
          workgroupBarrier();
        }`;
}

/** laneSums of one expression: the sum is part0[localId.x]. */
export const laneSum = (expr: string): string => laneSums([expr]);

/** The workgroup size and dispatch of a channel-sum program over `channels`. */
export function channelSumLayout(channels: number): { workgroupSize: [number, number, number]; dispatch: [number, number, number] } {
  return { workgroupSize: [CHANNELS_PER_GROUP, LANES, 1], dispatch: [Math.ceil(channels / CHANNELS_PER_GROUP), 1, 1] };
}

/**
 * WGSL that statically uses every input: tfjs builds each pipeline's bind group layout from what the shader uses and
 * binds every input, so a variant that leaves one unused would be rejected.
 */
export const touchAll = (names: string[]) => names.map((v) => `_ = ${v}[0];`).join(' ');

/**
 * The fields of a program with one thread per output element (a flat dispatch of 64-thread workgroups; `size`
 * makes tfjs pass the element count as uniforms.size): subclasses add variableNames, shaderKey, uniforms and the code.
 */
export abstract class PerElementProgram implements Pick<WebGPUProgram, 'outputShape' | 'dispatchLayout' | 'dispatch' | 'workgroupSize' | 'size'> {
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = [Math.ceil(shape.reduce((a, b) => a * b, 1) / this.workgroupSize[0]), 1, 1];
  }
}

export const f32 = (x: number) => ({ type: 'float32', data: [x] });
export const i32 = (x: number) => ({ type: 'int32', data: [x] });

export type KernelArgs = Parameters<KernelFunc>[0];

/** A numeric attr of a kernel call (0 when absent). */
export const attr = (a: KernelArgs, name: string) => (a.attrs as Record<string, number> | undefined)?.[name] ?? 0;

/** Runs `program` on the call's webgpu backend with its own uniforms after tfjs's. */
export function runProgram(a: KernelArgs, program: WebGPUProgram, inputs: TensorInfo[], uniforms: { type: string; data: number[] }[]): TensorInfo {
  return (a.backend as unknown as WebGPUBackend).runWebGPUProgram(program, inputs, 'float32', uniforms);
}
