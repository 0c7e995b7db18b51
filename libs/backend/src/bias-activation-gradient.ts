// The gradient of the bias + activation gradient kernel (./webgpu-bias-activation-kernels: dz = dy·act′(x + bias)),
// so that a loss on an input gradient, WGAN-GP's penalty, can be differentiated through the fused op:
//   ∂/∂dy = act′(z)·g, the kernel itself applied to g;
//   ∂/∂x  = dy·act″(z)·g: 0 for ReLU and LeakyReLU (piecewise linear; PyTorch's double backward of leaky_relu gives 0
//           too), −2·y·(1 − y²)·dy·g for tanh, y = tanh(z);  ∂/∂bias = ∂/∂x summed over every axis but the last.
// Registered by ./gradients with the lib's other gradients. Tests: node tools/run-tests.mjs libs/model bias-activation
import { add, engine, mul, scalar, square, sub, sum, tanh, zerosLike, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import { KERNEL_ACTIVATION } from './webgpu-activation';
import { BIAS_ACTIVATION_KERNELS } from './webgpu-bias-activation-kernels';

export const biasActivationGradGradConfig: GradConfig = {
  kernelName: BIAS_ACTIVATION_KERNELS.gradient,
  inputsToSave: ['dy', 'x', 'bias'],
  gradFunc: (g: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const [dy, x, bias] = saved;
    const gg = g as Tensor;
    const { act, alpha } = attrs as unknown as { act: number; alpha: number };
    const dDy = () => engine().runKernel(BIAS_ACTIVATION_KERNELS.gradient, { dy: gg, x, bias }, { act, alpha }) as Tensor;
    if (act !== KERNEL_ACTIVATION.tanh) return { dy: dDy, x: () => zerosLike(x), bias: () => zerosLike(bias) };
    const dX = () => {
      const y = tanh(add(x, bias));
      return mul(mul(mul(gg, dy), mul(scalar(-2), y)), sub(scalar(1), square(y)));
    };
    return { dy: dDy, x: dX, bias: () => sum(dX(), x.shape.slice(0, -1).map((_, i) => i)) };
  },
};
