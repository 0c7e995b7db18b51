// Training-mode BatchNorm for the tfjs webgpu backend as five WGSL programs, registered as tfjs kernels under names of
// our own (tfjs has no training BatchNorm kernel; its FusedBatchNorm takes the statistics as inputs).
//
// Why: @gan/model's BatchNorm built from tfjs ops costs about ten dispatches forward (two transposes and two
// reductions for the moments, then subtract, square, add, rsqrt, two multiplies, add), seven for the running
// statistics and a dozen backward; the DCGAN step runs seventeen forward passes and thirteen backward ones, so
// BatchNorm was about half of the step's ~700 dispatches, each a GPU round of launch overhead. Here it is 2 forward,
// 1 per running statistic, 3 backward, and each program reads its tensors in place (channels last, no transposes).
//
// Inputs are channels-last tensors [..., C] read as R = size / C rows of C values; every per-channel reduction is
// ./webgpu-channel-sum's compensated sum. The moments are two passes over x (mean, then Σ(x − μ)²), the form the ops
// they replace compute, so no cancellation of E[x²] − μ² enters. Per-element expressions are written in the order
// @gan/model's op form rounds them, so the two agree to float32 summation-order rounding (libs/model's
// batch-norm.test.ts checks them on whatever adapter exists, and the PyTorch reference suite's webgpu cases check the
// product's step). The channel sum also replaces webgpu's Sum over every axis but the last (a bias gradient), which
// tfjs runs as a transpose to channels-first and a row reduction: two dispatches and a copy of the tensor.
// Tests: node tools/run-tests.mjs libs/model batch-norm; node tools/run-tests.mjs libs/backend webgpu-batch-norm
import { getKernel, registerKernel, Sum, util, type KernelFunc, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { overrideKernel } from './kernel-override';
import { activated, activationGrad, KERNEL_ACTIVATION } from './webgpu-activation';
import { attr, CHANNEL_SUM_UNIFORMS, channelSumLayout, channelSumMain, channelSumUniforms, f32, i32, laneSum, runProgram, touchAll, type KernelArgs } from './webgpu-channel-sum';

/**
 * Kernel names, for tf.engine().runKernel (inputs and attrs as in each kernel's doc below). The forward pass makes a
 * per-channel table [5, C] (rows: mean, biased variance, γ, β, bias) that every later kernel reads instead of five
 * inputs: a WebGPU shader may bind only 8 storage buffers, and the input gradient would need 9.
 * Attr `biased` (1 or 0): the BatchNorm input is x + bias (the linear or conv layer's bias before it), else x.
 * Attr `act`: none, ReLU or LeakyReLU (./webgpu-activation's codes) applied after the affine step, so that
 * BatchNorm → activation, the DCGAN's every hidden layer, is one pass forward and the activation's gradient folds
 * into the backward ones.
 */
export const BN_KERNELS = {
  /**
   * {x [..., C], gamma [C], beta [C], bias? [C]} → the table [5, C]: the mean and biased variance over every axis but
   * the last of x (+ bias), then γ, β and the bias (zeros without one).
   */
  moments: 'GanBatchNormMoments',
  /** {x, table}, {eps, act, alpha, biased} → y = act(z), z = x̂·γ + β, x̂ = (x − μ)·(σ² + ε)^−½; x's shape. */
  normalize: 'GanBatchNormNormalize',
  /** {dy [..., C]} → [C]: Σ dy over every axis but the last. */
  sumDy: 'GanBatchNormSumDy',
  /** {dy, x, table}, {eps, act, alpha, biased} → [C]: Σ dz (dβ), dz = dy·act′(z) (dz = dy without an activation). */
  sumDz: 'GanBatchNormSumDz',
  /** The same inputs and attrs → [C]: Σ dz·x̂ (dγ). */
  sumDzXhat: 'GanBatchNormSumDzXhat',
  /**
   * The same inputs and {dGamma, dBeta} [C] → dx = dz·k + x̂·(k·dγ·(−1/n)) + k·dβ·(−1/n), k = γ·(σ² + ε)^−½,
   * n = rows: the closed-form input gradient of batch-statistics BatchNorm (also the bias's, summed over rows).
   */
  inputGrad: 'GanBatchNormInputGrad',
  /**
   * {table [5, C], running [C]}, {row: 0 | 1, scale, momentum} → running·(1 − m) + (table[row]·scale)·m (1 − m
   * rounded to float32 first, as a tensor of it would be): the running mean (row 0, scale 1) or running variance
   * (row 1, scale n/(n − 1), the unbiased variance).
   */
  running: 'GanBatchNormRunning',
} as const;

const TABLE_ROWS = 5;

/**
 * WGSL read from the table of channel c (`C` in scope) and of x: the BatchNorm input at element i, x̂ (the values
 * `mean`, `rstd` in scope), z and dz.
 */
const tableFns = (biased: boolean) => `
      fn tableAt(row : i32, c : i32) -> f32 { return table[row * uniforms.channels + c]; }
      fn xAt(i : i32, c : i32) -> f32 { return ${biased ? 'x[i] + tableAt(4, c)' : 'x[i]'}; }`;
const XHAT = '((xAt(i, c) - mean) * rstd)';
const Z = `(${XHAT} * tableAt(2, c) + tableAt(3, c))`;
const dzOf = (act: number) => activationGrad(act, Z, 'dy[i]');

type Reduction = 'moments' | 'sumDy' | 'sumDz' | 'sumDzXhat';

/** One workgroup per 16 channels; see the file header for the summation order. */
class ChannelReduceProgram implements WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms = `${CHANNEL_SUM_UNIFORMS} eps : f32, alpha : f32,`;

  constructor(private readonly kind: Reduction, private readonly act: number, private readonly biased: boolean, channels: number) {
    this.variableNames = { moments: ['x', 'gamma', 'beta'], sumDy: ['dy'], sumDz: ['dy', 'x', 'table'], sumDzXhat: ['dy', 'x', 'table'] }[kind];
    if (kind === 'moments' && biased) this.variableNames.push('bias');
    this.outputShape = kind === 'moments' ? [TABLE_ROWS, channels] : [channels];
    this.shaderKey = `ganBatchNorm_${kind}_${act}_${biased}`;
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    ({ workgroupSize: this.workgroupSize, dispatch: this.dispatch } = channelSumLayout(channels));
  }

  getUserCode(): string {
    const xIn = this.biased ? '(x[i] + bias[c])' : 'x[i]';
    const term = { moments: xIn, sumDy: 'dy[i]', sumDz: dzOf(this.act), sumDzXhat: `${dzOf(this.act)} * ${XHAT}` }[this.kind];
    let body: string;
    if (this.kind === 'moments') {
      body = `${laneSum(term)}
        let mean = part[localId.x] / f32(R);
        workgroupBarrier();
        {${laneSum(`(${xIn} - mean) * (${xIn} - mean)`)}
          if (localId.y == 0u && c < C) {
            setOutputAtIndex(c, mean);
            setOutputAtIndex(C + c, part[localId.x] / f32(R));
            setOutputAtIndex(2 * C + c, gamma[c]);
            setOutputAtIndex(3 * C + c, beta[c]);
            setOutputAtIndex(4 * C + c, ${this.biased ? 'bias[c]' : '0.0'});
          }
        }`;
    } else {
      const perChannel =
        this.kind === 'sumDy' ? '' : 'var mean = 0.0; var rstd = 0.0; if (c < C) { mean = tableAt(0, c); rstd = inverseSqrt(tableAt(1, c) + uniforms.eps); }';
      body = `${perChannel}${laneSum(term)}
        if (localId.y == 0u && c < C) { setOutputAtIndex(c, part[localId.x]); }`;
    }
    const tables = this.kind === 'sumDz' || this.kind === 'sumDzXhat' ? tableFns(this.biased) : '';
    return tables + channelSumMain(this.variableNames, body);
  }
}

type Elementwise = 'normalize' | 'inputGrad';

/** One thread per element of x. */
class ElementwiseProgram implements WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  uniforms = 'channels : i32, eps : f32, alpha : f32, negInvN : f32,';

  constructor(private readonly kind: Elementwise, private readonly act: number, private readonly biased: boolean, shape: number[]) {
    this.variableNames = kind === 'normalize' ? ['x', 'table'] : ['dy', 'x', 'table', 'dGamma', 'dBeta'];
    this.outputShape = shape;
    this.shaderKey = `ganBatchNorm_${kind}_${act}_${biased}`;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = [Math.ceil(shape.reduce((a, b) => a * b, 1) / this.workgroupSize[0]), 1, 1];
  }

  getUserCode(): string {
    const value =
      this.kind === 'normalize'
        ? activated(this.act, 'z')
        : `(${dzOf(this.act)} * k + ${XHAT} * (k * (dGamma[c] * uniforms.negInvN))) + k * (dBeta[c] * uniforms.negInvN)`;
    return `
      ${tableFns(this.biased)}
      fn main(i : i32) {
        ${touchAll(this.variableNames)}
        if (i < uniforms.size) {
          let C = uniforms.channels;
          let c = i % C;
          let mean = tableAt(0, c);
          let rstd = inverseSqrt(tableAt(1, c) + uniforms.eps);
          let z = ${Z};
          let k = tableAt(2, c) * rstd;
          setOutputAtIndex(i, ${value});
        }
      }`;
  }
}

/** One thread per channel. */
class RunningProgram implements WebGPUProgram {
  variableNames = ['table', 'running'];
  outputShape: number[];
  shaderKey = 'ganBatchNorm_running';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  uniforms = 'row : i32, scale : f32, momentum : f32, keep : f32,';

  constructor(channels: number) {
    this.outputShape = [channels];
    this.dispatch = [Math.ceil(channels / this.workgroupSize[0]), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let batch = table[uniforms.row * uniforms.size + index];
          setOutputAtIndex(index, running[index] * uniforms.keep + (batch * uniforms.scale) * uniforms.momentum);
        }
      }`;
  }
}

function channelsOf(x: TensorInfo, what: string): number {
  const C = x.shape.at(-1);
  if (x.dtype !== 'float32' || !C || x.shape.length < 2) throw new Error(`${what}: want float32 [..., C], got ${x.dtype} [${x.shape}]`);
  return C;
}

function activationOf(a: KernelArgs): number {
  const act = attr(a, 'act');
  if (act !== KERNEL_ACTIVATION.none && act !== KERNEL_ACTIVATION.relu && act !== KERNEL_ACTIVATION.leakyRelu) {
    throw new Error(`BatchNorm kernels: act must be none, ReLU or LeakyReLU, got code ${act}`);
  }
  return act;
}

const reduce = (kind: Reduction): KernelFunc => (a) => {
  const t = a.inputs as Record<string, TensorInfo>;
  const lead = kind === 'moments' ? t.x : t.dy;
  const C = channelsOf(lead, BN_KERNELS[kind]);
  const rows = lead.shape.reduce((p, d) => p * d, 1) / C;
  const biased = kind === 'moments' ? t.bias != null : kind !== 'sumDy' && attr(a, 'biased') === 1;
  const inputs = { moments: [t.x, t.gamma, t.beta], sumDy: [t.dy], sumDz: [t.dy, t.x, t.table], sumDzXhat: [t.dy, t.x, t.table] }[kind];
  if (kind === 'moments' && biased) inputs.push(t.bias);
  const act = kind === 'moments' || kind === 'sumDy' ? KERNEL_ACTIVATION.none : activationOf(a);
  const uniforms = [...channelSumUniforms(rows, C), f32(attr(a, 'eps')), f32(attr(a, 'alpha'))];
  return runProgram(a, new ChannelReduceProgram(kind, act, biased, C), inputs, uniforms);
};

const elementwise = (kind: Elementwise): KernelFunc => (a) => {
  const t = a.inputs as Record<string, TensorInfo>;
  const lead = kind === 'normalize' ? t.x : t.dy;
  const C = channelsOf(lead, BN_KERNELS[kind]);
  const rows = lead.shape.reduce((p, d) => p * d, 1) / C;
  const inputs = kind === 'normalize' ? [t.x, t.table] : [t.dy, t.x, t.table, t.dGamma, t.dBeta];
  const uniforms = [i32(C), f32(attr(a, 'eps')), f32(attr(a, 'alpha')), f32(-1 / rows)];
  return runProgram(a, new ElementwiseProgram(kind, activationOf(a), attr(a, 'biased') === 1, lead.shape), inputs, uniforms);
};

const running: KernelFunc = (a) => {
  const { table, running: r } = a.inputs as Record<string, TensorInfo>;
  const C = r.shape[0];
  const m = attr(a, 'momentum');
  const uniforms = [i32(attr(a, 'row')), f32(attr(a, 'scale')), f32(m), f32(1 - m)];
  return runProgram(a, new RunningProgram(C), [table, r], uniforms);
};

const KERNELS: [string, KernelFunc][] = [
  [BN_KERNELS.moments, reduce('moments')],
  [BN_KERNELS.sumDy, reduce('sumDy')],
  [BN_KERNELS.sumDz, reduce('sumDz')],
  [BN_KERNELS.sumDzXhat, reduce('sumDzXhat')],
  [BN_KERNELS.normalize, elementwise('normalize')],
  [BN_KERNELS.inputGrad, elementwise('inputGrad')],
  [BN_KERNELS.running, running],
];

/** webgpu's own Sum, for every reduction but a float32 one over all axes but the last without keepDims. */
let webgpuSum: KernelFunc | null = null;

const channelSum: KernelFunc = (a) => {
  const { x } = a.inputs as { x: TensorInfo };
  const { axis, keepDims } = a.attrs as unknown as SumAttrs;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(axis, x.shape);
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((ax, i) => ax === i) && x.shape.at(-1)! > 0;
  if (!leading || keepDims || x.dtype !== 'float32' || !webgpuSum) {
    if (!webgpuSum) throw new Error('@gan/backend webgpu Sum used before registerWebgpuBatchNormKernels()');
    return webgpuSum(a);
  }
  return reduce('sumDy')({ ...a, inputs: { dy: x } });
};

/** Registers the kernels for 'webgpu', and the channel sum as its Sum (once; later calls do nothing). */
export function registerWebgpuBatchNormKernels(): void {
  for (const [kernelName, kernelFunc] of KERNELS) {
    if (!getKernel(kernelName, 'webgpu')) registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
  }
  const { installed, replaced } = overrideKernel('webgpu', Sum, channelSum);
  if (installed) webgpuSum = replaced?.kernelFunc ?? null;
}

/** Whether the active backend has the training BatchNorm kernels (webgpu after registration). */
export function hasBatchNormKernels(backendName: string): boolean {
  return getKernel(BN_KERNELS.moments, backendName) != null;
}
