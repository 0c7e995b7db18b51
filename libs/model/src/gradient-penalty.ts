/**
 * WGAN-GP's gradient penalty (Gulrajani et al., "Improved Training of Wasserstein GANs", 2017), the term `--loss
 * wgan-gp` adds to the critic's wgan loss:
 *     λ · mean_i (‖∇x̂ D(x̂_i)‖₂ − 1)²,   x̂_i = ε_i·real_i + (1 − ε_i)·fake_i,   ε_i ~ U(0, 1) per row
 * (the paper's λ = 10 is DEFAULT_GP_WEIGHT). ε comes from the caller: the trainer draws it per global row from
 * (seed, step, row) (@gan/training's gp-epsilon.ts), so N workers × b rows are the rows of one process × N·b, and
 * the PyTorch reference suite hands the same ε to PyTorch.
 *
 * D's weights get the exact gradient of the penalty, a gradient of a gradient ("double backward"): the input
 * gradient is taken with tf.grad inside the D phase's tf.variableGrads, and TF.js records that inner backward pass on
 * the outer tape (a kernel's saved inputs are clones joined to the originals by Identity tape nodes), so the outer
 * pass differentiates through it: through LeakyReLU's dy·step(x, α) (@gan/backend's; step's own gradient is 0,
 * as PyTorch's leaky_relu double backward), through the conv's input gradient conv2dTranspose(dy, w) (tfjs-core's
 * Conv2DBackpropInput gradient: conv2d for dy, Conv2DBackpropFilter for w) and through MatMul's. Checked against
 * finite differences (gradient-penalty.test.ts) and PyTorch's autograd (test/torch-reference.test.ts).
 *
 * The penalty is per sample, so the critic must treat rows independently: a D with BatchNorm is refused (the paper
 * drops it from the critic for this reason; `--loss wgan-gp` requires `--norm none` for the DCGAN).
 * Not a runnable file. Tests: node tools/run-tests.mjs libs/model gradient-penalty
 */
import { tf } from './tf';
import { forward, type Gan, type Net } from './gan';
import { Rng, STREAM } from './rng';

/** Gulrajani et al.'s λ. */
export const DEFAULT_GP_WEIGHT = 10;

/**
 * ε for a batch: one uniform draw in (0, 1) (rounded to float32) per row, from rng.ts's generator on its own stream
 * seeded by that row's seed. The caller derives a row's seed from (seed, step, global row) (@gan/training's
 * gpEpsilon), so a row's ε does not depend on which worker holds it or on the batch it sits in.
 */
export function interpolationWeights(rowSeeds: ArrayLike<number>): Float32Array {
  return Float32Array.from(rowSeeds, (s) => new Rng(s, STREAM.gp).uniform());
}

/** The penalty's inputs, checked: ε (one value per row) and λ. */
export interface PenaltyInputs {
  eps: tf.Tensor;
  weight: number;
}

/**
 * Checks the D phase's penalty options for `--loss wgan-gp` (one-line errors naming `fn`): `eps` a float32 tensor
 * of one value per row of `real` ([B] or [B,1]), as many fake rows (`nFake`) as real ones, `weight` ≥ 0 and finite,
 * and a D without BatchNorm.
 */
export function penaltyInputs(
  gan: Gan, real: tf.Tensor, nFake: number, eps: tf.Tensor | undefined, weight: number | undefined, fn: string,
): PenaltyInputs {
  const w = weight ?? DEFAULT_GP_WEIGHT;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new Error(`${fn}: gpWeight must be a finite number ≥ 0, got ${String(w)}`);
  if (gan.d.buffers.length > 0) {
    throw new Error(`${fn}: the wgan-gp gradient penalty is per sample and needs a critic without BatchNorm (norm 'none')`);
  }
  if (!(eps instanceof tf.Tensor)) throw new Error(`${fn}: loss 'wgan-gp' needs gpEpsilon, one interpolation weight per real row`);
  const b = real.shape[0];
  if (nFake !== b) throw new Error(`${fn}: loss 'wgan-gp' interpolates real and fake rows pairwise: z has ${nFake} rows, real ${b}`);
  if (eps.dtype !== 'float32' || eps.size !== b || eps.shape[0] !== b || eps.rank > 2) {
    throw new Error(`${fn}: gpEpsilon must be float32 [${b}] (one weight per real row), got ${eps.dtype} [${eps.shape.join(',')}]`);
  }
  return { eps, weight: w };
}

/**
 * The penalty as a scalar tensor, λ · mean_i (‖∇x̂ D(x̂_i)‖₂ − 1)², recorded so that an enclosing tf.variableGrads
 * differentiates it with respect to D's weights. `real` and `fake` are constants here (the D phase's fakes are
 * detached); `eps` from penaltyInputs. D runs on x̂ in training mode without touching running stats (it has none).
 * Call inside tf.tidy (or variableGrads).
 */
export function gradientPenalty(d: Net, real: tf.Tensor, fake: tf.Tensor, inputs: PenaltyInputs): tf.Scalar {
  const { weight } = inputs;
  const eps = tf.reshape(inputs.eps, [real.shape[0], ...real.shape.slice(1).map(() => 1)]);
  const xhat = tf.add(tf.mul(eps, real), tf.mul(tf.sub(1, eps), fake));
  // Rows are independent (no BatchNorm), so the gradient of the sum of the logits is each row's own ∇x̂ D(x̂_i).
  const gx = tf.grad((x: tf.Tensor) => tf.sum(forward(d, x, null)))(xhat);
  const axes = gx.shape.slice(1).map((_, i) => i + 1);
  const norms = tf.sqrt(tf.sum(tf.square(gx), axes));
  return tf.mul(tf.mean(tf.square(tf.sub(norms, 1))), tf.scalar(weight)) as tf.Scalar;
}
