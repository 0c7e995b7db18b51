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
 * two dispatches forward, two backward (three sums in one, then dx), one for both running statistics, instead of one
 * per op; there the ReLU or LeakyReLU that follows can run inside them too (see `fusesActivation`).
 */
import { BN_KERNELS, hasBatchNormKernels } from '@gan/backend';
import { activationAttrs, type Activation } from './bias-activation';
import { tf } from './tf';

/**
 * One BatchNorm's batch statistics, for the running-statistics update: the mean and biased variance [C] each, or,
 * from the kernels, their per-channel `table` [5, C] (row 0 the mean, row 1 the variance; see @gan/backend's
 * BN_KERNELS). Kept tensors; see disposeStats.
 */
export type BatchStats = { mean: tf.Tensor1D; variance: tf.Tensor1D } | { table: tf.Tensor2D };

const kernel = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;

/** A kernel with several outputs. */
const kernels = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}): tf.Tensor[] =>
  tf.engine().runKernel(name, inputs, attrs) as unknown as tf.Tensor[];

export interface BatchNormOptions {
  /** Applied to the output inside the op (ReLU or LeakyReLU); only where fusesActivation(). */
  act?: Activation;
  /** [C], added to x first: the bias of the linear or conv layer before, differentiable. */
  bias?: tf.Tensor;
}

/** Whether batchNormTrain can apply an Activation itself on the active backend (one pass instead of two). */
export function fusesActivation(): boolean {
  return hasBatchNormKernels(tf.getBackend());
}

/**
 * y = γ·(x − μ)/√(σ² + ε) + β over the batch statistics of x, differentiable in x, γ and β.
 * `x`: [..., C] (statistics over every axis but the last); `gamma`, `beta`: [C]. Returns y (x's shape) and the
 * statistics [C] (not differentiable; kept tensors the caller disposes). With opts.act (only where fusesActivation()),
 * y = act(that); with opts.bias, x + bias normalised. Call inside tf.tidy.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, opts: BatchNormOptions = {}): { y: tf.Tensor; stats: BatchStats } {
  if (hasBatchNormKernels(tf.getBackend())) return batchNormByKernels(x, gamma, beta, eps, opts);
  if (opts.act) throw new Error('batchNormTrain: an activation inside BatchNorm needs the BatchNorm kernels (see fusesActivation)');
  if (opts.bias) x = tf.add(x, opts.bias);
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

function batchNormByKernels(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, { act, bias }: BatchNormOptions): { y: tf.Tensor; stats: BatchStats } {
  const attrs = { eps, ...activationAttrs(act), biased: bias ? 1 : 0 };
  let table!: tf.Tensor2D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b, c] = args.filter((a): a is tf.Tensor => a instanceof tf.Tensor);
    const save = args.at(-1) as tf.GradSaveFunc;
    // The per-channel table (statistics, γ, β, bias) the later kernels read; see @gan/backend's BN_KERNELS.
    table = tf.keep(kernel(BN_KERNELS.moments, c ? { x: xIn, gamma: g, beta: b, bias: c } : { x: xIn, gamma: g, beta: b }) as tf.Tensor2D);
    save([xIn, table]);
    return {
      value: kernel(BN_KERNELS.normalize, { x: xIn, table }, attrs),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, t] = saved;
        const common = { dy: dy as tf.Tensor, x: xs, table: t };
        // With a bias, d(x + bias)/d bias is dx summed over the rows, which the same pass sums (see BN_KERNELS).
        const [dBeta, dGamma, dBias] = kernels(BN_KERNELS.backwardSums, common, attrs);
        const dx = kernel(BN_KERNELS.inputGrad, { ...common, dGamma, dBeta }, attrs);
        return bias ? [dx, dGamma, dBeta, dBias] : [dx, dGamma, dBeta];
      },
    };
  });
  const y = bias ? op(x, gamma, beta, bias) : op(x, gamma, beta);
  return { y, stats: { table } };
}

/**
 * The running mean and variance after one pass with `momentum`, as PyTorch updates them: running·(1 − momentum) +
 * batch·momentum, the variance's batch value the unbiased one (biased · n/(n − 1)). `n`: values per channel.
 */
export function runningUpdate(stats: BatchStats, running: { mean: tf.Tensor; variance: tf.Tensor }, n: number, momentum: number): { mean: tf.Tensor; variance: tf.Tensor } {
  if ('table' in stats) {
    const [mean, variance] = kernels(BN_KERNELS.running, { table: stats.table, mean: running.mean, variance: running.variance }, { n, momentum });
    return { mean, variance };
  }
  const update = (r: tf.Tensor, batch: tf.Tensor) => tf.add(tf.mul(r, tf.scalar(1 - momentum)), tf.mul(batch, tf.scalar(momentum)));
  return { mean: update(running.mean, stats.mean), variance: update(running.variance, tf.mul(stats.variance, tf.scalar(n / (n - 1)))) };
}

export function disposeStats(stats: BatchStats): void {
  tf.dispose('table' in stats ? [stats.table] : [stats.mean, stats.variance]);
}
