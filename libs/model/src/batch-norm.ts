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
 * Where the backend has @gan/backend's training BatchNorm kernels (webgpu), the same formulas run as those kernels:
 * two dispatches forward, three backward, one per running statistic, instead of one per op; there the ReLU or
 * LeakyReLU that follows can run inside them too (see `fusesActivation`).
 */
import { BN_ACTIVATION, BN_KERNELS, hasBatchNormKernels } from '@gan/backend';
import { tf } from './tf';

/**
 * One BatchNorm's batch statistics, for the running-statistics update: the mean and biased variance [C] each, or,
 * from the kernels, both as `moments` [2, C] (row 0 the mean, row 1 the variance). Kept tensors; see disposeStats.
 */
export type BatchStats = { mean: tf.Tensor1D; variance: tf.Tensor1D } | { moments: tf.Tensor2D };

const kernel = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;

/** An activation applied to BatchNorm's output inside it: ReLU, or LeakyReLU with negative slope `alpha`. */
export type Activation = { kind: 'relu' } | { kind: 'lrelu'; alpha: number };

/** Whether batchNormTrain can apply an Activation itself on the active backend (one pass instead of two). */
export function fusesActivation(): boolean {
  return hasBatchNormKernels(tf.getBackend());
}

/**
 * y = γ·(x − μ)/√(σ² + ε) + β over the batch statistics of x, differentiable in x, γ and β.
 * `x`: [..., C] (statistics over every axis but the last); `gamma`, `beta`: [C]. Returns y (x's shape) and the
 * statistics [C] (not differentiable; kept tensors the caller disposes). With `act` (only where fusesActivation()),
 * y = act(that), differentiable the same way. Call inside tf.tidy.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, act?: Activation): { y: tf.Tensor; stats: BatchStats } {
  if (hasBatchNormKernels(tf.getBackend())) return batchNormByKernels(x, gamma, beta, eps, act);
  if (act) throw new Error('batchNormTrain: an activation inside BatchNorm needs the BatchNorm kernels (see fusesActivation)');
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

function batchNormByKernels(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, act?: Activation): { y: tf.Tensor; stats: BatchStats } {
  const attrs = {
    eps,
    act: !act ? BN_ACTIVATION.none : act.kind === 'relu' ? BN_ACTIVATION.relu : BN_ACTIVATION.leakyRelu,
    alpha: act?.kind === 'lrelu' ? act.alpha : 0,
  };
  let moments!: tf.Tensor2D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    moments = tf.keep(kernel(BN_KERNELS.moments, { x: xIn }) as tf.Tensor2D);
    save([xIn, moments, g, b]);
    return {
      value: kernel(BN_KERNELS.normalize, { x: xIn, moments, gamma: g, beta: b }, attrs),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, m, gm, bt] = saved;
        const inputs = { dy: dy as tf.Tensor, x: xs, moments: m, gamma: gm, beta: bt };
        const dBeta = kernel(BN_KERNELS.sumDz, inputs, attrs);
        const dGamma = kernel(BN_KERNELS.sumDzXhat, inputs, attrs);
        const dx = kernel(BN_KERNELS.inputGrad, { ...inputs, dGamma, dBeta }, attrs);
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, stats: { moments } };
}

/**
 * The running mean (`which` 'mean') or variance ('var', from the unbiased batch variance: biased · n/(n − 1)) after
 * one pass with `momentum`, as PyTorch updates it: running·(1 − momentum) + batch·momentum. `n`: values per channel.
 */
export function runningUpdate(stats: BatchStats, which: 'mean' | 'var', running: tf.Tensor, n: number, momentum: number): tf.Tensor {
  if ('moments' in stats) {
    return kernel(BN_KERNELS.running, { moments: stats.moments, running }, { row: which === 'mean' ? 0 : 1, scale: which === 'mean' ? 1 : n / (n - 1), momentum });
  }
  const batch = which === 'mean' ? stats.mean : tf.mul(stats.variance, tf.scalar(n / (n - 1)));
  return tf.add(tf.mul(running, tf.scalar(1 - momentum)), tf.mul(batch, tf.scalar(momentum)));
}

export function disposeStats(stats: BatchStats): void {
  tf.dispose('moments' in stats ? [stats.moments] : [stats.mean, stats.variance]);
}
