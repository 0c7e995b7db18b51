/**
 * The GAN objectives, as functions of D's logits (one per row), for the D and G phases of a step:
 *   - 'non-saturating' (the source document's and pytorch/examples dcgan's): D minimises BCE(D(x), t) + BCE(D(G(z)), 0),
 *     G minimises BCE(D(G(z)), 1);
 *   - 'minimax' (Goodfellow et al.'s original): D as above, G minimises mean log(1 − σ(D(G(z))));
 *   - 'hinge' (Lim & Ye; Miyato et al.'s spectral-norm GAN): D minimises mean relu(1 − D(x)) + mean relu(1 + D(G(z))),
 *     G minimises −mean D(G(z));
 *   - 'wgan' (Arjovsky et al.): the critic minimises mean D(G(z)) − mean D(x), G minimises −mean D(G(z)); the
 *     Lipschitz constraint (weight clipping) is applied by the optimiser step, not here;
 *   - 'wgan-gp' (Gulrajani et al.): as 'wgan', with the Lipschitz constraint as a gradient penalty on D's loss
 *     instead of clipping; the penalty needs D's input gradient, so it lives in ./gradient-penalty, not here.
 * `t` is the real label (1 − one-sided label smoothing) and only exists for the two BCE objectives.
 * Where the backend has @gan/backend's loss kernels (webgpu), the BCE and the mean sigmoid score run as those: one
 * dispatch each, and the BCE's gradient as one in its closed form (σ(x) − t)/n.
 * Not a runnable file; tested in steps.test.ts (values), gradients.test.ts (finite differences) and against PyTorch in
 * test/torch-reference.test.ts.
 */
import { hasLossKernels, LOSS_KERNELS } from '@gan/backend';
import { tf } from './tf';

export const GAN_LOSSES = ['non-saturating', 'minimax', 'hinge', 'wgan', 'wgan-gp'] as const;
export type GanLoss = (typeof GAN_LOSSES)[number];

/** True for the objectives whose D is a classifier with a sigmoid output (and so has a real label to smooth). */
export function isBceLoss(loss: GanLoss): boolean {
  return loss === 'non-saturating' || loss === 'minimax';
}

/** Throws a one-line error naming `fn` unless `loss` is one of GAN_LOSSES. */
export function checkLoss(loss: unknown, fn: string): asserts loss is GanLoss {
  if (!(GAN_LOSSES as readonly unknown[]).includes(loss)) {
    throw new Error(`${fn}: loss must be one of ${GAN_LOSSES.join('|')}, got ${String(loss)}`);
  }
}

/**
 * Mean binary cross-entropy of sigmoid(logits) against a constant target t, computed from logits so it never
 * takes log(0): BCE = softplus(x) − t·x (= −t·log σ(x) − (1−t)·log(1−σ(x))).
 */
export function bceWithLogits(logits: tf.Tensor, target: number): tf.Scalar {
  if (hasLossKernels(tf.getBackend())) {
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      (args[1] as tf.GradSaveFunc)([x]);
      return {
        value: tf.reshape(tf.engine().runKernel(LOSS_KERNELS.bceMean, { x }, { target }) as tf.Tensor, []),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], [xs]: tf.Tensor[]) => tf.engine().runKernel(LOSS_KERNELS.bceMeanGrad, { x: xs, dy: dy as tf.Tensor }, { target }) as tf.Tensor,
      };
    });
    return op(logits) as tf.Scalar;
  }
  const sp = tf.softplus(logits);
  return tf.mean(target === 0 ? sp : tf.sub(sp, tf.mul(logits, tf.scalar(target))));
}

/** D's loss from its logits on the real rows `lr` [B,1] and the fake rows `lf` [B',1]. */
export function dLoss(loss: GanLoss, lr: tf.Tensor, lf: tf.Tensor, realLabel: number): tf.Scalar {
  switch (loss) {
    case 'non-saturating':
    case 'minimax':
      return tf.add(bceWithLogits(lr, realLabel), bceWithLogits(lf, 0)) as tf.Scalar;
    case 'hinge':
      return tf.add(tf.mean(tf.relu(tf.sub(1, lr))), tf.mean(tf.relu(tf.add(lf, 1)))) as tf.Scalar;
    case 'wgan':
    case 'wgan-gp': // without its penalty (./gradient-penalty), which the D phase adds
      return tf.sub(tf.mean(lf), tf.mean(lr)) as tf.Scalar;
  }
}

/** G's loss from D's logits on the fake rows `lf` [B,1]. */
export function gLoss(loss: GanLoss, lf: tf.Tensor): tf.Scalar {
  switch (loss) {
    case 'non-saturating':
      return bceWithLogits(lf, 1);
    case 'minimax':
      // mean log(1 − σ(x)) = −BCE(σ(x), 0)
      return tf.neg(bceWithLogits(lf, 0)) as tf.Scalar;
    case 'hinge':
    case 'wgan':
    case 'wgan-gp':
      return tf.neg(tf.mean(lf)) as tf.Scalar;
  }
}

/**
 * What the logs call D(x) and D(G(z)): the mean probability σ(logit) for the BCE objectives, the mean raw score
 * for hinge and the wgans, whose D is a critic with no sigmoid.
 */
export function meanScore(loss: GanLoss, logits: tf.Tensor): tf.Scalar {
  if (isBceLoss(loss) && hasLossKernels(tf.getBackend())) {
    return tf.reshape(tf.engine().runKernel(LOSS_KERNELS.sigmoidMean, { x: logits }) as tf.Tensor, []) as tf.Scalar;
  }
  return tf.mean(isBceLoss(loss) ? tf.sigmoid(logits) : logits);
}
