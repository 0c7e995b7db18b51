// A layer's bias add and the activation after it (no BatchNorm between) as one WGSL program for the tfjs webgpu
// backend, and the activation's gradient as one, registered as tfjs kernels under names of our own.
//
// Why: D's first layer (conv → bias → LeakyReLU) and G's last (conv-transpose → bias → tanh) ran the add and the
// activation as two dispatches forward and the activation's gradient as two or three backward (step and multiply;
// square, subtract and multiply for tanh), on the largest activations of the step. Values are the same: x + bias is
// one float32 add either way, and the activation and its gradient are ./webgpu-activation's, written as tfjs's.
// Tests: node tools/run-tests.mjs libs/model bias-activation
import { getKernel, registerKernel, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ACTIVATION_FNS, activated, activationGrad, KERNEL_ACTIVATION } from './webgpu-activation';
import { attr, f32, i32, PerElementProgram, runProgram, touchAll, type KernelArgs } from './webgpu-channel-sum';

/** Kernel names, for tf.engine().runKernel. Attr `act`: ReLU, LeakyReLU (with `alpha`) or tanh (KERNEL_ACTIVATION). */
export const BIAS_ACTIVATION_KERNELS = {
  /** {x [..., C], bias [C]}, {act, alpha} → act(x + bias), x's shape. */
  forward: 'GanBiasActivation',
  /** {dy, x [..., C], bias [C]}, {act, alpha} → dy·act′(x + bias), x's shape (the gradient at x + bias). */
  gradient: 'GanBiasActivationGrad',
} as const;

/** One thread per element of x. */
class BiasActivationProgram extends PerElementProgram implements WebGPUProgram {
  variableNames: string[];
  shaderKey: string;
  uniforms = 'channels : i32, alpha : f32,';

  constructor(private readonly gradient: boolean, private readonly act: number, shape: number[]) {
    super(shape);
    this.variableNames = gradient ? ['dy', 'x', 'bias'] : ['x', 'bias'];
    this.shaderKey = `ganBiasActivation_${gradient}_${act}`;
  }

  getUserCode(): string {
    const value = this.gradient ? activationGrad(this.act, 'z', 'dy[i]') : activated(this.act, 'z');
    return `${ACTIVATION_FNS}
      fn main(i : i32) {
        ${touchAll(this.variableNames)}
        if (i < uniforms.size) {
          let z = x[i] + bias[i % uniforms.channels];
          setOutputAtIndex(i, ${value});
        }
      }`;
  }
}

function check(a: KernelArgs, x: TensorInfo, bias: TensorInfo, what: string): { act: number; channels: number } {
  const act = attr(a, 'act');
  if (act !== KERNEL_ACTIVATION.relu && act !== KERNEL_ACTIVATION.leakyRelu && act !== KERNEL_ACTIVATION.tanh) {
    throw new Error(`${what}: act must be ReLU, LeakyReLU or tanh, got code ${act}`);
  }
  const channels = x.shape.at(-1);
  if (x.dtype !== 'float32' || !channels || bias.shape.length !== 1 || bias.shape[0] !== channels) {
    throw new Error(`${what}: want float32 x [..., C] and bias [C], got [${x.shape}] and [${bias.shape}]`);
  }
  return { act, channels };
}

const forward: KernelFunc = (a) => {
  const { x, bias } = a.inputs as { x: TensorInfo; bias: TensorInfo };
  const { act, channels } = check(a, x, bias, BIAS_ACTIVATION_KERNELS.forward);
  return runProgram(a, new BiasActivationProgram(false, act, x.shape), [x, bias], [i32(channels), f32(attr(a, 'alpha'))]);
};

const gradient: KernelFunc = (a) => {
  const { dy, x, bias } = a.inputs as { dy: TensorInfo; x: TensorInfo; bias: TensorInfo };
  const { act, channels } = check(a, x, bias, BIAS_ACTIVATION_KERNELS.gradient);
  return runProgram(a, new BiasActivationProgram(true, act, x.shape), [dy, x, bias], [i32(channels), f32(attr(a, 'alpha'))]);
};

/** Registers the kernels for 'webgpu' (once; later calls do nothing). */
export function registerWebgpuBiasActivationKernels(): void {
  for (const [kernelName, kernelFunc] of [
    [BIAS_ACTIVATION_KERNELS.forward, forward],
    [BIAS_ACTIVATION_KERNELS.gradient, gradient],
  ] as const) {
    if (!getKernel(kernelName, 'webgpu')) registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
  }
}

/** Whether `backendName` has the bias + activation kernels (webgpu after registration). */
export function hasBiasActivationKernels(backendName: string): boolean {
  return getKernel(BIAS_ACTIVATION_KERNELS.forward, backendName) != null;
}
