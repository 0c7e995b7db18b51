/**
 * The optimiser a run trains both nets with (`--optimizer`): Adam (adam.ts) or RMSprop (rmsprop.ts), behind the one
 * interface the trainer, its snapshots, broadcasts and checkpoints use. An optimiser's state is its step count plus
 * named per-element slots in the net's flat order (Adam: m, v; RMSprop: square_avg), so a checkpoint stores them
 * as `<kind>.<net>.<slot>` tensors and a `<kind>_<net>_step` entry (Adam's names are the ones checkpoints used
 * before RMSprop existed). Tested through adam.test.ts, rmsprop.test.ts and test/torch-reference.test.ts.
 * Not a runnable file.
 */
import { adamApply, adamState, createAdam, loadAdamState, type Adam } from './adam';
import { createRmsProp, loadRmsPropState, rmspropApply, rmspropState, type RmsProp } from './rmsprop';
import type { Net } from './gan';

export const OPTIMIZERS = ['adam', 'rmsprop'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];

/** The state slots of each optimiser, in the order they are broadcast and saved. */
export const OPTIMIZER_SLOTS: Readonly<Record<OptimizerKind, readonly string[]>> = Object.freeze({
  adam: Object.freeze(['m', 'v']),
  rmsprop: Object.freeze(['square_avg']),
});

/** One net's optimiser. */
export type Optimizer = { readonly kind: 'adam'; readonly adam: Adam } | { readonly kind: 'rmsprop'; readonly rmsprop: RmsProp };

/** `lr` applies to both; beta1/beta2 to Adam only (RMSprop takes PyTorch's defaults, see rmsprop.ts). */
export interface OptimizerOptions {
  optimizer?: OptimizerKind;
  lr?: number;
  beta1?: number;
  beta2?: number;
}

/** A copy of an optimiser's state: its kind, step and slots (OPTIMIZER_SLOTS[kind], each paramCount values). */
export interface OptimizerState {
  kind: OptimizerKind;
  step: number;
  slots: Record<string, Float32Array>;
}

/** Zeroed optimiser state sized for `net` (default Adam). Throws a one-line error for an unknown kind. */
export function createOptimizer(net: Net, opts: OptimizerOptions = {}): Optimizer {
  const kind = opts.optimizer ?? 'adam';
  if (kind === 'adam') return { kind, adam: createAdam(net, { lr: opts.lr, beta1: opts.beta1, beta2: opts.beta2 }) };
  if (kind === 'rmsprop') return { kind, rmsprop: createRmsProp(net, { lr: opts.lr }) };
  throw new Error(`createOptimizer: optimizer must be one of ${OPTIMIZERS.join('|')}, got ${String(kind)}`);
}

/** One update of `net` from a flat gradient (see adamApply / rmspropApply). */
export function optimizerApply(opt: Optimizer, net: Net, flatGrads: Float32Array): void {
  if (opt.kind === 'adam') adamApply(opt.adam, net, flatGrads);
  else rmspropApply(opt.rmsprop, net, flatGrads);
}

/** A copy of the optimiser's state. */
export function optimizerState(opt: Optimizer): OptimizerState {
  if (opt.kind === 'adam') {
    const s = adamState(opt.adam);
    return { kind: 'adam', step: s.step, slots: { m: s.m, v: s.v } };
  }
  const s = rmspropState(opt.rmsprop);
  return { kind: 'rmsprop', step: s.step, slots: { square_avg: s.squareAvg } };
}

/** Restores state saved by optimizerState; another kind's state, a missing slot or a wrong length throws. */
export function loadOptimizerState(opt: Optimizer, state: OptimizerState): void {
  if (state.kind !== opt.kind) throw new Error(`loadOptimizerState: the state is ${state.kind}'s, the optimizer is ${opt.kind}`);
  for (const k of OPTIMIZER_SLOTS[opt.kind]) {
    if (!(state.slots[k] instanceof Float32Array)) throw new Error(`loadOptimizerState: ${opt.kind} state lacks '${k}'`);
  }
  if (opt.kind === 'adam') loadAdamState(opt.adam, { step: state.step, m: state.slots.m, v: state.slots.v });
  else loadRmsPropState(opt.rmsprop, { step: state.step, squareAvg: state.slots.square_avg });
}
