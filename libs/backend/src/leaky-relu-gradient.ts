// The LeakyRelu gradient as dy · step(x, α): one unary kernel and one same-shape multiply.
//
// Why: tfjs-core's own definition, where(x > 0, dy, dy · α), runs Greater and Multiply against broadcast scalars and
// a Select, and on the wasm backend the broadcasting binary kernels take a slow generic path (Greater + Select were
// 1.8 ms of a 13 ms MLP step, 23 ms of a small-DCGAN step). Step(x, α) is 1 for x > 0 and α otherwise, so each
// element gets dy · 1 = dy or dy · α, the same float32 products as tfjs-core's (and PyTorch's leaky_relu backward,
// which also takes the α side at x = 0). Only a NaN x differs: tfjs-core passes dy · α, this passes NaN.
// Registered by ./gradients after tfjs-core's own set. Tests: node tools/run-tests.mjs libs/backend leaky-relu
import { LeakyRelu, mul, step, type GradConfig, type LeakyReluAttrs, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';

export const leakyReluGradConfig: GradConfig = {
  kernelName: LeakyRelu,
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const [x] = saved;
    const { alpha } = attrs as unknown as LeakyReluAttrs;
    return { x: () => mul(dy as Tensor, step(x, alpha)) };
  },
};
