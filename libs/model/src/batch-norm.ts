/**
 * BatchNorm in training mode (batch statistics) as one differentiable op whose backward pass is the closed form
 * PyTorch's native_batch_norm_backward uses, instead of tfjs autodiff through the ops of the forward pass.
 * Not a runnable file; tested by batch-norm.test.ts and the PyTorch reference suite.
 *
 * Why: autodiff through mean → subtract → square → mean → rsqrt → multiply → affine differentiates every one of those
 * ops, about a dozen passes over the activation and four reductions per layer and step; the closed form,
 *   x̂ = (x − μ)·r, r = (σ² + ε)^−½ (σ² biased), y = γ·x̂ + β,
 *   dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·r·(dy − dβ/n − x̂·dγ/n) = dy·(γr) + x̂·(−γr·dγ/n) + (−γr·dβ/n),
 * takes four passes and two reductions (sums over every axis but the last, n values per channel).
 */
import { tf } from './tf';

/** One BatchNorm's batch statistics (biased variance), for the running-statistics update. */
export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * y = γ·(x − μ)/√(σ² + ε) + β over the batch statistics of x, differentiable in x, γ and β.
 * `x`: [..., C] (statistics over every axis but the last); `gamma`, `beta`: [C]. Returns y (x's shape) and the
 * statistics [C] (not differentiable; kept tensors the caller disposes). Call inside tf.tidy.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): { y: tf.Tensor; stats: BatchStats } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  let stats!: BatchStats;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const mean = tf.mean(xIn, axes) as tf.Tensor1D;
    const centered = tf.sub(xIn, mean);
    const variance = tf.mean(tf.square(centered), axes) as tf.Tensor1D;
    // Kept: the op's forward pass runs in a scope of its own that frees all but its output and saved tensors.
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    const r = tf.rsqrt(tf.add(variance, tf.scalar(eps)));
    const xhat = tf.mul(centered, r);
    save([xhat, r, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const d = dy as tf.Tensor;
        const [xh, rs, gm] = saved;
        const dBeta = tf.sum(d, axes);
        const dGamma = tf.sum(tf.mul(d, xh), axes);
        const k = tf.mul(gm, rs);
        const a = tf.mul(k, tf.mul(dGamma, tf.scalar(-1 / n)));
        const c = tf.mul(k, tf.mul(dBeta, tf.scalar(-1 / n)));
        const dx = tf.add(tf.add(tf.mul(d, k), tf.mul(xh, a)), c);
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, stats };
}
