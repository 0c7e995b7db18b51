// The BCE-from-logits loss and its gradient, and the mean sigmoid score, for the tfjs webgpu backend as WGSL programs
// registered as tfjs kernels under names of our own.
//
// Why: @gan/model's BCE, mean(softplus(x) − t·x) over D's logits [B, 1], is four tfjs kernels forward (softplus,
// multiply, subtract, mean) and about six backward (the mean's fill, tile and divide, the subtraction's negation, the
// softplus gradient's sigmoid and multiply) on a few dozen values, where each GPU dispatch costs far more than the
// arithmetic. A DCGAN step takes three such losses and three mean scores. Here the loss is one dispatch forward
// (./webgpu-channel-sum's compensated sum over the rows, divided by their number) and one backward, the closed form
// dL/dx = (σ(x) − t)·dy/n, and the mean score is one. softplus and σ are written as tfjs's webgpu kernels write them.
// Tests: node tools/run-tests.mjs libs/model losses
import { getKernel, registerKernel, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { attr, CHANNEL_SUM_UNIFORMS, channelSumLayout, channelSumMain, channelSumUniforms, f32, laneSum, PerElementProgram, runProgram, touchAll } from './webgpu-channel-sum';

/** Kernel names, for tf.engine().runKernel. */
export const LOSS_KERNELS = {
  /** {x (any shape)}, {target} → [1]: mean over every value of softplus(x) − t·x, the BCE of σ(x) against t. */
  bceMean: 'GanBceMean',
  /** {x, dy [] or [1]}, {target} → x's shape: (σ(x) − t)·(dy/n), the gradient of bceMean times dy; n = x's size. */
  bceMeanGrad: 'GanBceMeanGrad',
  /** {x} → [1]: the mean of σ(x). */
  sigmoidMean: 'GanSigmoidMean',
} as const;

/** tfjs-backend-webgpu 4.22's SOFTPLUS and SIGMOID unary ops, as functions. */
const ACTIVATIONS = `
      fn softplusOf(a : f32) -> f32 {
        let threshold = log(1.1920928955078125e-7) + 2.0;
        if (a > -threshold) { return a; }
        let e = exp(a);
        if (a < threshold) { return e; }
        return log(e + 1.0);
      }
      fn sigmoidOf(a : f32) -> f32 { return 1.0 / (1.0 + exp(-1.0 * a)); }`;

/** A mean over every value of x, as one channel of x.size rows: one workgroup. */
class MeanProgram implements WebGPUProgram {
  variableNames = ['x'];
  outputShape = [1];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms = `${CHANNEL_SUM_UNIFORMS} label : f32,`;

  constructor(private readonly kind: 'bce' | 'sigmoid') {
    this.shaderKey = `ganLoss_${kind}`;
    ({ workgroupSize: this.workgroupSize, dispatch: this.dispatch } = channelSumLayout(1));
  }

  getUserCode(): string {
    const term = this.kind === 'bce' ? 'softplusOf(x[i]) - uniforms.label * x[i]' : 'sigmoidOf(x[i])';
    return ACTIVATIONS + channelSumMain(this.variableNames, `${laneSum(term)}
        if (localIndex == 0u) { setOutputAtIndex(0, part0[0] / f32(R)); }`);
  }
}

/** One thread per value of x. */
class BceGradProgram extends PerElementProgram implements WebGPUProgram {
  variableNames = ['x', 'dy'];
  shaderKey = 'ganLoss_bceGrad';
  uniforms = 'label : f32, invN : f32,';

  getUserCode(): string {
    return `${ACTIVATIONS}
      fn main(i : i32) {
        ${touchAll(this.variableNames)}
        if (i < uniforms.size) { setOutputAtIndex(i, (sigmoidOf(x[i]) - uniforms.label) * (dy[0] * uniforms.invN)); }
      }`;
  }
}

function sizeOf(x: TensorInfo, what: string): number {
  const n = x.shape.reduce((a, b) => a * b, 1);
  if (x.dtype !== 'float32' || n === 0) throw new Error(`${what}: want a non-empty float32 tensor, got ${x.dtype} [${x.shape}]`);
  return n;
}

const mean = (kind: 'bce' | 'sigmoid'): KernelFunc => (a) => {
  const { x } = a.inputs as { x: TensorInfo };
  const n = sizeOf(x, kind === 'bce' ? LOSS_KERNELS.bceMean : LOSS_KERNELS.sigmoidMean);
  return runProgram(a, new MeanProgram(kind), [x], [...channelSumUniforms(n, 1), f32(attr(a, 'target'))]);
};

const bceGrad: KernelFunc = (a) => {
  const { x, dy } = a.inputs as { x: TensorInfo; dy: TensorInfo };
  const n = sizeOf(x, LOSS_KERNELS.bceMeanGrad);
  return runProgram(a, new BceGradProgram(x.shape), [x, dy], [f32(attr(a, 'target')), f32(1 / n)]);
};

const KERNELS: [string, KernelFunc][] = [
  [LOSS_KERNELS.bceMean, mean('bce')],
  [LOSS_KERNELS.bceMeanGrad, bceGrad],
  [LOSS_KERNELS.sigmoidMean, mean('sigmoid')],
];

/** Registers the kernels for 'webgpu' (once; later calls do nothing). */
export function registerWebgpuLossKernels(): void {
  for (const [kernelName, kernelFunc] of KERNELS) {
    if (!getKernel(kernelName, 'webgpu')) registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
  }
}

/** Whether `backendName` has the loss kernels (webgpu after registration). */
export function hasLossKernels(backendName: string): boolean {
  return getKernel(LOSS_KERNELS.bceMean, backendName) != null;
}
