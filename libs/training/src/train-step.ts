/**
 * One data-parallel GAN step on one rank, in the source document's order: D gradients on the real batch and on
 * detached fakes → all-reduce (mean) → Adam(D); G gradients through the updated D → all-reduce → Adam(G). The
 * trainer's loop and the PyTorch reference suite (test/torch-reference.test.ts) both run exactly this.
 * Not a runnable file.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { adamApply, dGradients, gGradients, type DGradResult, type GGradResult, type GLoss } from '@gan/model';
import type { Reducer } from './reducer';
import type { TrainState } from './run-state';

export interface StepOptions {
  /** Target for real samples in D's loss (1 − label smoothing). */
  realLabel: number;
  loss: GLoss;
}

export interface StepOutcome {
  /** D's result; `grads` holds the all-reduced mean that Adam applied. */
  d: DGradResult;
  /** G's result; `grads` holds the all-reduced mean that Adam applied. */
  g: GGradResult;
  /** Gradient computation and both Adam updates, milliseconds. */
  computeMs: number;
  /** Time inside the two all-reduces, including waiting for slower peers. */
  allreduceMs: number;
}

/**
 * Runs one step on `st` (weights, BatchNorm statistics and both Adam states change; `st.step` does not).
 * `real`: [B,H,W,C] or [B,dataDim]; `z`: [B,nz]; the caller owns and disposes both.
 */
export async function trainStep(st: TrainState, real: tf.Tensor, z: tf.Tensor2D, reducer: Reducer, opts: StepOptions): Promise<StepOutcome> {
  const { gan } = st;
  let computeMs = 0;
  let allreduceMs = 0;
  let tc = performance.now();
  const d = dGradients(gan, real, z, { realLabel: opts.realLabel });
  let ta = performance.now();
  computeMs += ta - tc;
  await reducer.allReduceMean(d.grads);
  tc = performance.now();
  allreduceMs += tc - ta;
  adamApply(st.adamD, gan.d, d.grads);
  const g = gGradients(gan, z, { loss: opts.loss });
  ta = performance.now();
  computeMs += ta - tc;
  await reducer.allReduceMean(g.grads);
  tc = performance.now();
  allreduceMs += tc - ta;
  adamApply(st.adamG, gan.g, g.grads);
  computeMs += performance.now() - tc;
  return { d, g, computeMs, allreduceMs };
}
