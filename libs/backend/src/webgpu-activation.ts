// The activations @gan/backend's WGSL kernels apply inside themselves (attr `act` of the BatchNorm and bias kernels),
// written as tfjs-backend-webgpu 4.22's own Relu, LeakyRelu and Tanh kernels and their tfjs-core gradients compute
// them, so that a fused kernel gives the values the separate ops gave. Not a runnable file; tested through the
// kernels that use it (libs/model batch-norm.test.ts, bias-activation.test.ts).

/**
 * Activation codes: 0 none, 1 ReLU, 2 LeakyReLU (attr `alpha`, read as uniforms.alpha), 3 tanh. The ReLU and
 * LeakyReLU gradients take the slope at z = 0 from the negative side, as PyTorch's backward passes (and tfjs's
 * step-based ones) do.
 */
export const KERNEL_ACTIVATION = { none: 0, relu: 1, leakyRelu: 2, tanh: 3 } as const;

/** WGSL functions the expressions below call; put once in a shader that uses them. */
export const ACTIVATION_FNS = `
      fn tanhOf(a : f32) -> f32 {
        let e2x = exp(-2.0 * abs(a));
        return sign(a) * (1.0 - e2x) / (1.0 + e2x);
      }`;

/** WGSL: act(z) for the WGSL expression z (evaluated more than once: pass a name). */
export function activated(act: number, z: string): string {
  switch (act) {
    case KERNEL_ACTIVATION.none:
      return z;
    case KERNEL_ACTIVATION.relu:
      return `select(${z}, 0.0, ${z} < 0.0)`;
    case KERNEL_ACTIVATION.leakyRelu:
      return `select(${z}, uniforms.alpha * ${z}, ${z} < 0.0)`;
    case KERNEL_ACTIVATION.tanh:
      return `tanhOf(${z})`;
  }
  throw new Error(`unknown activation code ${act}`);
}

/** WGSL: the gradient at z times dy, in tfjs-core's order (dy·step(z, α) for ReLU/LeakyReLU, (1 − y²)·dy for tanh). */
export function activationGrad(act: number, z: string, dy: string): string {
  switch (act) {
    case KERNEL_ACTIVATION.none:
      return dy;
    case KERNEL_ACTIVATION.relu:
      return `(${dy} * select(0.0, 1.0, ${z} > 0.0))`;
    case KERNEL_ACTIVATION.leakyRelu:
      return `(${dy} * select(uniforms.alpha, 1.0, ${z} > 0.0))`;
    case KERNEL_ACTIVATION.tanh:
      return `((1.0 - tanhOf(${z}) * tanhOf(${z})) * ${dy})`;
  }
  throw new Error(`unknown activation code ${act}`);
}
