/**
 * One data-parallel GAN step on one rank, in the source document's order: D gradients on the real batch and on
 * detached fakes → all-reduce (mean) → Adam(D) (→ weight clipping for wgan); G gradients through the updated D →
 * all-reduce → Adam(G) (G's objective: the loss's, or feature matching). With n_critic K > 1 the trainer runs K − 1 critic steps (the D phase alone, each on its own
 * batch) before this one. The trainer's loop and the PyTorch reference suite (test/torch-reference.test.ts) both
 * run exactly these functions. Not a runnable file.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { adamApply, clipWeights, dGradientsAsync, gGradientsAsync, type DGradResult, type GanLoss, type GGradResult } from '@gan/model';
import type { Reducer } from './reducer';
import type { TrainState } from './run-state';

export interface StepOptions {
  /** Target for real samples in D's loss (1 − label smoothing; BCE losses only). */
  realLabel: number;
  loss: GanLoss;
  /** WGAN weight clipping: D's weights are clamped to [−clip, clip] after each D update; null = none. */
  clip?: number | null;
  /** G minimises feature matching against this step's real batch instead of the loss's G objective. */
  featureMatching?: boolean;
}

export interface CriticOutcome {
  /** D's result; `grads` holds the all-reduced mean that Adam applied. */
  d: DGradResult;
  computeMs: number;
  allreduceMs: number;
}

export interface StepOutcome extends CriticOutcome {
  /** G's result; `grads` holds the all-reduced mean that Adam applied. */
  g: GGradResult;
  /** Gradient computation and both Adam updates, milliseconds. */
  computeMs: number;
  /** Time inside the two all-reduces, including waiting for slower peers. */
  allreduceMs: number;
}

/**
 * The D phase alone: D's gradients on `real` and on G(z) detached, all-reduced, Adam(D), then clipping if asked.
 * `real`: [B,H,W,C] or [B,dataDim]; `z`: [B,nz]; the caller owns and disposes both.
 */
export async function criticStep(st: TrainState, real: tf.Tensor, z: tf.Tensor2D, reducer: Reducer, opts: StepOptions): Promise<CriticOutcome> {
  const { gan } = st;
  const t0 = performance.now();
  const d = await dGradientsAsync(gan, real, z, { realLabel: opts.realLabel, loss: opts.loss });
  const ta = performance.now();
  await reducer.allReduceMean(d.grads);
  const tb = performance.now();
  adamApply(st.adamD, gan.d, d.grads);
  if (opts.clip != null) clipWeights(gan.d, opts.clip);
  return { d, computeMs: ta - t0 + (performance.now() - tb), allreduceMs: tb - ta };
}

/**
 * Runs one step on `st` (weights, BatchNorm statistics and both Adam states change; `st.step` does not).
 * `real`: [B,H,W,C] or [B,dataDim]; `z`: [B,nz]; the caller owns and disposes both.
 */
export async function trainStep(st: TrainState, real: tf.Tensor, z: tf.Tensor2D, reducer: Reducer, opts: StepOptions): Promise<StepOutcome> {
  const { gan } = st;
  const c = await criticStep(st, real, z, reducer, opts);
  const t0 = performance.now();
  const g = await gGradientsAsync(gan, z, { loss: opts.loss, featureMatching: opts.featureMatching ? real : undefined });
  const ta = performance.now();
  await reducer.allReduceMean(g.grads);
  const tb = performance.now();
  adamApply(st.adamG, gan.g, g.grads);
  return { d: c.d, g, computeMs: c.computeMs + (ta - t0) + (performance.now() - tb), allreduceMs: c.allreduceMs + (tb - ta) };
}
