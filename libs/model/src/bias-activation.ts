/**
 * A layer's bias add and the activation after it as one differentiable op, where the backend has @gan/backend's
 * bias + activation kernels (webgpu): one dispatch forward and one for the activation's gradient, instead of two and
 * two or three. The values are the separate ops' (see the kernels' file). Elsewhere callers run tf.add and the
 * activation as they are. Not a runnable file; tested by bias-activation.test.ts and the PyTorch reference suite.
 */
import { BIAS_ACTIVATION_KERNELS, hasBiasActivationKernels, KERNEL_ACTIVATION } from '@gan/backend';
import { tf } from './tf';

/** An activation a fused op may apply: ReLU, LeakyReLU with negative slope `alpha`, or tanh. */
export type Activation = { kind: 'relu' } | { kind: 'lrelu'; alpha: number } | { kind: 'tanh' };

/** The kernels' attrs for `act`. */
export function activationAttrs(act: Activation | undefined): { act: number; alpha: number } {
  if (!act) return { act: KERNEL_ACTIVATION.none, alpha: 0 };
  const code = { relu: KERNEL_ACTIVATION.relu, lrelu: KERNEL_ACTIVATION.leakyRelu, tanh: KERNEL_ACTIVATION.tanh }[act.kind];
  return { act: code, alpha: act.kind === 'lrelu' ? act.alpha : 0 };
}

/** Whether biasActivation runs on the active backend. */
export function fusesBiasActivation(): boolean {
  return hasBiasActivationKernels(tf.getBackend());
}

/**
 * act(x + bias), differentiable in x and bias. `x`: [..., C]; `bias`: [C]. Only where fusesBiasActivation().
 * Call inside tf.tidy.
 */
export function biasActivation(x: tf.Tensor, bias: tf.Tensor, act: Activation): tf.Tensor {
  if (!fusesBiasActivation()) throw new Error(`biasActivation: the ${tf.getBackend()} backend has no bias + activation kernels`);
  const attrs = activationAttrs(act);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, b] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([xIn, b]);
    return {
      value: tf.engine().runKernel(BIAS_ACTIVATION_KERNELS.forward, { x: xIn, bias: b }, attrs) as tf.Tensor,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], [xs, bs]: tf.Tensor[]) => {
        const dz = tf.engine().runKernel(BIAS_ACTIVATION_KERNELS.gradient, { dy: dy as tf.Tensor, x: xs, bias: bs }, attrs) as tf.Tensor;
        // d(x + bias)/d bias sums over the rows: what tfjs's Add gradient computes (the same Sum kernel).
        return [dz, tf.sum(dz, dz.shape.slice(0, -1).map((_, i) => i))];
      },
    };
  });
  return op(x, bias);
}
