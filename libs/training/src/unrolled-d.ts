/**
 * Unrolled GANs (Metz et al. 2017), the first-order variant (`--unrolled K`): G's loss is taken against D advanced
 * by K more D updates, and those updates are then discarded. The paper's full G gradient also differentiates
 * through the K updates (a second-order term it finds matters most against mode collapse); here the unrolled D's
 * weights are constants when G's loss is differentiated, the cheaper surrogate: our optimisers run on the host
 * (adam.ts, rmsprop.ts), not as differentiable tf ops, so there is nothing to backpropagate through.
 *
 * The "copy" is D itself, saved and restored: its weights, its buffers (BatchNorm running statistics, spectral
 * norm's u and v) and its optimiser's state (Adam's m, v and step, or RMSprop's square average) are saved, the K
 * updates are plain criticSteps (the same optimiser kind continuing from the real state, clipping for wgan, every
 * gradient all-reduced through the same Reducer, so the copies stay identical on every rank and N × b still
 * equals 1 × N·b), G's gradient is computed through the result (its D passes move the copy's buffers only), and
 * everything saved is written back bit for bit, whatever happened. That is PyTorch's `copy.deepcopy(D)` plus a
 * deep copy of its optimiser's state (test/torch/reference_step.py) without a second set of device variables.
 * Nothing new is checkpointed: the copy never outlives the step. Tested against PyTorch in
 * test/torch-reference.test.ts (`node tools/run-tests.mjs test torch-reference`) and end to end in
 * test/unrolled.test.ts (`node tools/run-tests.mjs test unrolled`). Not a runnable file.
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  getFlatBuffers, getFlatWeights, loadOptimizerState, optimizerState, setFlatBuffers, setFlatWeights, syncHostCopies,
} from '@gan/model';
import type { TrainState } from './run-state';

/** One unrolled D update's inputs, owned by the caller: a fresh real batch, its z and (wgan-gp) its ε. */
export interface UnrollBatch {
  real: tf.Tensor;
  z: tf.Tensor2D;
  gpEpsilon?: tf.Tensor;
}

/** What the unrolled updates cost, milliseconds (as CriticOutcome's). */
export interface UnrollCost {
  computeMs: number;
  allreduceMs: number;
}

let observer: ((st: TrainState) => void) | null = null;

/**
 * Diagnostics hook: `fn` sees the state with D unrolled, right before G's gradient is taken through it, on every
 * unrolled step until it is replaced (null turns it off). The PyTorch reference suite reads our unrolled D there (its
 * G phase then runs through the same D, as it does with the D update). Costs nothing when unset.
 */
export function observeUnrolledD(fn: ((st: TrainState) => void) | null): void {
  observer = fn;
}

/**
 * Runs `update` once per batch on `st` (each an all-reduced D update), then `body` against the unrolled D, then puts
 * D's weights, buffers and optimiser state back exactly as they were, also when something throws. With no batches it
 * is `body()` alone (K = 0 changes nothing).
 */
export async function withUnrolledD<T>(
  st: TrainState,
  batches: readonly UnrollBatch[],
  update: (b: UnrollBatch) => Promise<UnrollCost>,
  body: () => Promise<T>,
  cost: UnrollCost,
): Promise<T> {
  if (batches.length === 0) return body();
  const d = st.gan.d;
  // Asynchronous reads first: GPU backends under Node cannot read the device synchronously (see flat.ts).
  await syncHostCopies(d);
  const saved = { w: getFlatWeights(d), b: getFlatBuffers(d), opt: optimizerState(st.optD) };
  try {
    for (const b of batches) {
      const c = await update(b);
      cost.computeMs += c.computeMs;
      cost.allreduceMs += c.allreduceMs;
    }
    observer?.(st);
    return await body();
  } finally {
    setFlatWeights(d, saved.w);
    setFlatBuffers(d, saved.b);
    loadOptimizerState(st.optD, saved.opt);
  }
}
