// Training-mode BatchNorm for the tfjs webgpu backend as five WGSL programs, registered as tfjs kernels under names of
// our own (tfjs has no training BatchNorm kernel; its FusedBatchNorm takes the statistics as inputs).
//
// Why: @gan/model's BatchNorm built from tfjs ops costs about ten dispatches forward (two transposes and two
// reductions for the moments, then subtract, square, add, rsqrt, two multiplies, add), seven for the running
// statistics and a dozen backward; the DCGAN step runs seventeen forward passes and thirteen backward ones, so
// BatchNorm was about half of the step's ~700 dispatches, each a GPU round of launch overhead. Here it is 2 forward,
// 1 for both running statistics, 2 backward (the sums, then the input gradient), and each program reads its tensors
// in place (channels last, no transposes). The programs that make two or three per-channel results at once run
// through ./webgpu-multi-output.
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
import { attr, CHANNEL_SUM_UNIFORMS, channelSumLayout, channelSumMain, channelSumUniforms, f32, i32, laneSum, laneSums, PerElementProgram, runProgram, touchAll, type KernelArgs } from './webgpu-channel-sum';
import { runMultiOutput, type MultiOutputProgram } from './webgpu-multi-output';

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
  /**
   * {dy, x, table}, {eps, act, alpha, biased} → [dβ, dγ] (biased 0) or [dβ, dγ, d bias] (biased 1), [C] each, from one
   * pass: dβ = Σ dz, dz = dy·act′(z) (dy without an activation), dγ = Σ dz·x̂, and the gradient of the bias before
   * BatchNorm, Σ dx over the rows of inputGrad's dx, summed term by term: k·Σ dz + (k·dγ·(−1/n))·Σ x̂ + n·(k·dβ·(−1/n))
   * (zero but for rounding: BatchNorm subtracts the bias again; PyTorch's value is rounding too).
   */
  backwardSums: 'GanBatchNormBackwardSums',
  /**
   * {dy, x, table, dGamma [C], dBeta [C]}, {eps, act, alpha, biased} → dx = dz·k + x̂·(k·dγ·(−1/n)) + k·dβ·(−1/n),
   * k = γ·(σ² + ε)^−½, n = rows: the closed-form input gradient of batch-statistics BatchNorm.
   */
  inputGrad: 'GanBatchNormInputGrad',
  /**
   * {table [5, C], mean [C], variance [C]}, {n, momentum} → [mean′, variance′]: running·(1 − m) + batch·m (1 − m
   * rounded to float32 first, as a tensor of it would be) for the running mean and, from the unbiased batch variance
   * (biased·n/(n − 1), n = rows), the running variance.
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

type Reduction = 'moments' | 'sumDy';

/** One workgroup per 16 channels; see the file header for the summation order. */
class ChannelReduceProgram implements WebGPUProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms = CHANNEL_SUM_UNIFORMS;

  constructor(private readonly kind: Reduction, private readonly biased: boolean, channels: number) {
    this.variableNames = kind === 'moments' ? ['x', 'gamma', 'beta'] : ['dy'];
    if (kind === 'moments' && biased) this.variableNames.push('bias');
    this.outputShape = kind === 'moments' ? [TABLE_ROWS, channels] : [channels];
    this.shaderKey = `ganBatchNorm_${kind}_${biased}`;
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    ({ workgroupSize: this.workgroupSize, dispatch: this.dispatch } = channelSumLayout(channels));
  }

  getUserCode(): string {
    if (this.kind === 'sumDy') {
      return channelSumMain(this.variableNames, `${laneSum('dy[i]')}
        if (localId.y == 0u && c < C) { setOutputAtIndex(c, part0[localId.x]); }`);
    }
    const xIn = this.biased ? '(x[i] + bias[c])' : 'x[i]';
    return channelSumMain(this.variableNames, `${laneSum(xIn)}
        let mean = part0[localId.x] / f32(R);
        workgroupBarrier();
        {${laneSum(`(${xIn} - mean) * (${xIn} - mean)`)}
          if (localId.y == 0u && c < C) {
            setOutputAtIndex(c, mean);
            setOutputAtIndex(C + c, part0[localId.x] / f32(R));
            setOutputAtIndex(2 * C + c, gamma[c]);
            setOutputAtIndex(3 * C + c, beta[c]);
            setOutputAtIndex(4 * C + c, ${this.biased ? 'bias[c]' : '0.0'});
          }
        }`);
  }
}

/** BN_KERNELS.backwardSums: the channel sums of ./webgpu-channel-sum, two or three at once. */
class BackwardSumsProgram implements MultiOutputProgram {
  inputNames = ['dy', 'x', 'table'];
  outputNames: string[];
  outputShapes: number[][];
  uniforms = `${CHANNEL_SUM_UNIFORMS} eps : f32, alpha : f32, negInvN : f32,`;
  shaderKey: string;
  workgroupSize: [number, number, number];
  dispatch: [number, number, number];

  constructor(private readonly act: number, private readonly biased: boolean, channels: number) {
    this.outputNames = biased ? ['dBeta', 'dGamma', 'dBias'] : ['dBeta', 'dGamma'];
    this.outputShapes = this.outputNames.map(() => [channels]);
    this.shaderKey = `ganBatchNorm_backwardSums_${act}_${biased}`;
    ({ workgroupSize: this.workgroupSize, dispatch: this.dispatch } = channelSumLayout(channels));
  }

  getUserCode(): string {
    const sums = this.biased ? ['dz', 'dz * xh', 'xh'] : ['dz', 'dz * xh'];
    const dBias = `
            let k = tableAt(2, c) * rstd;
            let n = f32(R);
            dBias[c] = (k * part0[localId.x] + (k * (part1[localId.x] * uniforms.negInvN)) * part2[localId.x]) + n * (k * (part0[localId.x] * uniforms.negInvN));`;
    return `${tableFns(this.biased)}
      ${channelSumMain([...this.inputNames, ...this.outputNames], `
        var mean = 0.0;
        var rstd = 0.0;
        if (c < C) { mean = tableAt(0, c); rstd = inverseSqrt(tableAt(1, c) + uniforms.eps); }
        ${laneSums(sums, `let xh = ${XHAT}; let dz = ${dzOf(this.act)};`)}
        if (localId.y == 0u && c < C) {
          dBeta[c] = part0[localId.x];
          dGamma[c] = part1[localId.x];${this.biased ? dBias : ''}
        }`, sums.length)}`;
  }
}

/** BN_KERNELS.normalize and inputGrad. */
class ElementwiseProgram extends PerElementProgram implements WebGPUProgram {
  variableNames: string[];
  shaderKey: string;
  uniforms = 'channels : i32, eps : f32, alpha : f32, negInvN : f32,';

  constructor(private readonly kind: Elementwise, private readonly act: number, private readonly biased: boolean, shape: number[]) {
    super(shape);
    this.variableNames = kind === 'normalize' ? ['x', 'table'] : ['dy', 'x', 'table', 'dGamma', 'dBeta'];
    this.shaderKey = `ganBatchNorm_${kind}_${act}_${biased}`;
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

type Elementwise = 'normalize' | 'inputGrad';

/** BN_KERNELS.running: one thread per channel. */
class RunningProgram implements MultiOutputProgram {
  inputNames = ['table', 'mean', 'variance'];
  outputNames = ['newMean', 'newVariance'];
  outputShapes: number[][];
  uniforms = 'channels : i32, scale : f32, momentum : f32, keep : f32,';
  shaderKey = 'ganBatchNorm_running';
  workgroupSize: [number, number, number] = [64, 1, 1];
  dispatch: [number, number, number];

  constructor(channels: number) {
    this.outputShapes = [[channels], [channels]];
    this.dispatch = [Math.ceil(channels / this.workgroupSize[0]), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(c : i32) {
        let C = uniforms.channels;
        if (c < C) {
          let m = uniforms.momentum;
          newMean[c] = mean[c] * uniforms.keep + table[c] * m;
          newVariance[c] = variance[c] * uniforms.keep + (table[C + c] * uniforms.scale) * m;
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

const rowsOf = (x: TensorInfo, C: number) => x.shape.reduce((p, d) => p * d, 1) / C;

const reduce = (kind: Reduction): KernelFunc => (a) => {
  const t = a.inputs as Record<string, TensorInfo>;
  const lead = kind === 'moments' ? t.x : t.dy;
  const C = channelsOf(lead, BN_KERNELS[kind]);
  const biased = kind === 'moments' && t.bias != null;
  const inputs = kind === 'moments' ? [t.x, t.gamma, t.beta, ...(biased ? [t.bias] : [])] : [t.dy];
  return runProgram(a, new ChannelReduceProgram(kind, biased, C), inputs, channelSumUniforms(rowsOf(lead, C), C));
};

const backwardSums: KernelFunc = (a) => {
  const { dy, x, table } = a.inputs as Record<string, TensorInfo>;
  const C = channelsOf(dy, BN_KERNELS.backwardSums);
  const rows = rowsOf(dy, C);
  const uniforms = [...channelSumUniforms(rows, C), f32(attr(a, 'eps')), f32(attr(a, 'alpha')), f32(-1 / rows)];
  return runMultiOutput(a.backend, new BackwardSumsProgram(activationOf(a), attr(a, 'biased') === 1, C), [dy, x, table], uniforms);
};

const elementwise = (kind: Elementwise): KernelFunc => (a) => {
  const t = a.inputs as Record<string, TensorInfo>;
  const lead = kind === 'normalize' ? t.x : t.dy;
  const C = channelsOf(lead, BN_KERNELS[kind]);
  const inputs = kind === 'normalize' ? [t.x, t.table] : [t.dy, t.x, t.table, t.dGamma, t.dBeta];
  const uniforms = [i32(C), f32(attr(a, 'eps')), f32(attr(a, 'alpha')), f32(-1 / rowsOf(lead, C))];
  return runProgram(a, new ElementwiseProgram(kind, activationOf(a), attr(a, 'biased') === 1, lead.shape), inputs, uniforms);
};

const running: KernelFunc = (a) => {
  const { table, mean, variance } = a.inputs as Record<string, TensorInfo>;
  const C = mean.shape[0];
  const n = attr(a, 'n');
  const m = attr(a, 'momentum');
  if (table.shape[1] !== C || variance.shape[0] !== C || !(n > 1)) {
    throw new Error(`${BN_KERNELS.running}: want table [5, C], mean and variance [C], n > 1; got [${table.shape}], [${mean.shape}], [${variance.shape}], n ${n}`);
  }
  return runMultiOutput(a.backend, new RunningProgram(C), [table, mean, variance], [i32(C), f32(n / (n - 1)), f32(m), f32(1 - m)]);
};

const KERNELS: [string, KernelFunc][] = [
  [BN_KERNELS.moments, reduce('moments')],
  [BN_KERNELS.sumDy, reduce('sumDy')],
  [BN_KERNELS.backwardSums, backwardSums],
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
