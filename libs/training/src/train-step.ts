/**
 * One data-parallel GAN step on one rank, in the source document's order: D gradients on the real batch and on
 * detached fakes → all-reduce (mean) → Adam or RMSprop (--optimizer) on D (→ weight clipping for wgan); G gradients
 * through the updated D → all-reduce → the optimiser on G (G's objective: the loss's, or feature matching). With n_critic K > 1 the trainer runs K − 1 critic steps (the D phase alone, each on its own
 * batch) before this one; with --unrolled K, G's gradient is taken through D advanced by K more updates that are
 * then undone (./unrolled-d). The trainer's loop and the PyTorch reference suite (test/torch-reference.test.ts) both
 * run exactly these functions. Not a runnable file.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { clipWeights, dGradientsAsync, gGradientsAsync, optimizerApply, readBuffer, type DGradResult, type GanLoss, type GGradResult, type ReadBuffer } from '@gan/model';
import type { Reducer } from './reducer';
import type { TrainState } from './run-state';
import { withUnrolledD, type UnrollBatch } from './unrolled-d';

export interface StepOptions {
  /** Target for real samples in D's loss (1 − label smoothing; BCE losses only). */
  realLabel: number;
  loss: GanLoss;
  /** WGAN weight clipping: D's weights are clamped to [−clip, clip] after each D update; null = none. */
  clip?: number | null;
  /** G minimises feature matching against this step's real batch instead of the loss's G objective. */
  featureMatching?: boolean;
  /** wgan-gp: λ of the gradient penalty (default 10). */
  gpWeight?: number;
  /** wgan-gp: this D update's interpolation weights ε, float32 [B] (./gp-epsilon), owned by the caller. */
  gpEpsilon?: tf.Tensor;
}

/** The state's read-back arrays, one per phase, made on first use and kept for the run. */
function reads(st: TrainState): NonNullable<TrainState['reads']> {
  return (st.reads ??= { d: readBuffer(), g: readBuffer(), unrolled: readBuffer() });
}

export interface CriticOutcome {
  /**
   * D's result; `grads` holds the all-reduced mean that the optimiser applied, in the state's read buffer (so until
   * the next critic step reads into it; unrolled updates have their own).
   */
  d: DGradResult;
  computeMs: number;
  allreduceMs: number;
}

export interface StepOutcome extends CriticOutcome {
  /** G's result; `grads` holds the all-reduced mean that the optimiser applied (until the next step's G phase). */
  g: GGradResult;
  /** Gradient computation and both optimiser updates, milliseconds. */
  computeMs: number;
  /** Time inside the two all-reduces, including waiting for slower peers. */
  allreduceMs: number;
}

/**
 * The D phase alone: D's gradients on `real` and on G(z) detached, all-reduced, the optimiser step on D, then clipping if asked.
 * `real`: [B,H,W,C] or [B,dataDim]; `z`: [B,nz]; the caller owns and disposes both.
 */
export function criticStep(st: TrainState, real: tf.Tensor, z: tf.Tensor2D, reducer: Reducer, opts: StepOptions): Promise<CriticOutcome> {
  return critic(st, real, z, reducer, opts, reads(st).d);
}

/** criticStep, reading D's gradient into `rb`. */
async function critic(st: TrainState, real: tf.Tensor, z: tf.Tensor2D, reducer: Reducer, opts: StepOptions, rb: ReadBuffer): Promise<CriticOutcome> {
  const { gan } = st;
  const t0 = performance.now();
  const gp = opts.loss === 'wgan-gp' ? { gpWeight: opts.gpWeight, gpEpsilon: opts.gpEpsilon } : {};
  const d = await dGradientsAsync(gan, real, z, { realLabel: opts.realLabel, loss: opts.loss, ...gp, readBuffer: rb });
  const ta = performance.now();
  await reducer.allReduceMean(d.grads);
  const tb = performance.now();
  optimizerApply(st.optD, gan.d, d.grads);
  if (opts.clip != null) clipWeights(gan.d, opts.clip);
  return { d, computeMs: ta - t0 + (performance.now() - tb), allreduceMs: tb - ta };
}

/**
 * Runs one step on `st` (weights, buffers and both optimiser states change; `st.step` does not).
 * `real`: [B,H,W,C] or [B,dataDim]; `z`: [B,nz]; the caller owns and disposes both. `unrolled` (--unrolled K: K
 * batches, owned by the caller; default none) are the extra D updates G's gradient is taken through and that are
 * then undone (./unrolled-d); G's own z and feature-matching batch stay `z` and `real`.
 */
export async function trainStep(
  st: TrainState, real: tf.Tensor, z: tf.Tensor2D, reducer: Reducer, opts: StepOptions, unrolled: readonly UnrollBatch[] = [],
): Promise<StepOutcome> {
  const { gan } = st;
  const c = await criticStep(st, real, z, reducer, opts);
  const cost = { computeMs: c.computeMs, allreduceMs: c.allreduceMs };
  const t0 = performance.now();
  const unroll = (b: UnrollBatch): Promise<CriticOutcome> =>
    critic(st, b.real, b.z, reducer, opts.loss === 'wgan-gp' ? { ...opts, gpEpsilon: b.gpEpsilon } : opts, reads(st).unrolled);
  const g = await withUnrolledD(st, unrolled, unroll, () => gGradientsAsync(gan, z, { loss: opts.loss, featureMatching: opts.featureMatching ? real : undefined, readBuffer: reads(st).g }), cost);
  const ta = performance.now();
  // The unrolled updates' time is in `cost` already (their all-reduces as all-reduce time).
  const unrollMs = cost.computeMs - c.computeMs + cost.allreduceMs - c.allreduceMs;
  await reducer.allReduceMean(g.grads);
  const tb = performance.now();
  optimizerApply(st.optG, gan.g, g.grads);
  return {
    d: c.d, g, computeMs: cost.computeMs + (ta - t0 - unrollMs) + (performance.now() - tb), allreduceMs: cost.allreduceMs + (tb - ta),
  };
}
