/**
 * Adam with PyTorch semantics (torch.optim.Adam, weight_decay 0, amsgrad off), applied to a flat gradient vector.
 *
 * Implementation: a WebAssembly SIMD loop (adam-wasm.ts) over flat float32 arrays that live in the optimizer's own
 * wasm memory (m, v, a host copy of the weights, the gradient), then one setFlatWeights. Host-side, because a
 * tfjs-ops Adam (per-variable m/v variables updated with tf ops) measured 4.2 s a step for G's 12.7 M params
 * (it allocates ~10 full-size temporaries per variable), against 170 ms for a plain JS loop then and a few tens
 * of ms for the SIMD loop now (libs/model/scripts/bench-adam.ts). It is deterministic: each element is computed
 * in float64 from float32 inputs in a fixed order (the same order the JS loop used), so identical gradients give
 * bit-identical weights on every replica, whatever the backend.
 *
 * The host copy of the weights (`net.host`, the kernel's w) is reused while the net's `version` is unchanged
 * (only this lib writes weights), so a step costs no device→host weight read, nor does any later getFlatWeights.
 * Not a runnable file.
 */
import { createAdamKernel, type AdamKernel } from './adam-wasm';
import { assertAlive, type Net } from './gan';
import { getFlatWeights, paramCount, setFlatWeights } from './flat';

/** Adam hyper-parameters (defaults: the DCGAN paper's lr 2e-4, beta1 0.5). */
export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Optimizer state for one network. `lr` may be changed between steps. */
export interface Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Length of the flat vectors (paramCount of the net it was created for). */
  readonly size: number;
  /** Number of updates applied so far (PyTorch's `step`). */
  step: number;
  /** First moment, flat order (updated in place). */
  readonly m: Float32Array;
  /** Second moment, flat order (updated in place). */
  readonly v: Float32Array;
}

/** Each optimizer's kernel; m and v above are views of its memory. */
const kernels = new WeakMap<Adam, AdamKernel>();

/** Serializable optimizer state for checkpoints. */
export interface AdamState {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

function checkHyper(name: string, v: number, lo: number, hi: number, loOpen: boolean): void {
  if (!Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v >= hi) {
    throw new Error(`createAdam: ${name} must be in ${loOpen ? '(' : '['}${lo}, ${hi}), got ${v}`);
  }
}

/** Creates zeroed Adam state sized for `net`. */
export function createAdam(net: Net, opts: AdamOptions = {}): Adam {
  const lr = opts.lr ?? 2e-4;
  const beta1 = opts.beta1 ?? 0.5;
  const beta2 = opts.beta2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  checkHyper('lr', lr, 0, Infinity, false);
  checkHyper('beta1', beta1, 0, 1, false);
  checkHyper('beta2', beta2, 0, 1, false);
  checkHyper('eps', eps, 0, Infinity, true);
  const size = paramCount(net);
  const kernel = createAdamKernel(size);
  const adam: Adam = { lr, beta1, beta2, eps, size, step: 0, m: kernel.m, v: kernel.v };
  kernels.set(adam, kernel);
  return adam;
}

/**
 * One Adam update of `net` from a flat gradient (net's flat order; typically the all-reduced mean):
 *   t += 1; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
 *   θ −= (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps)
 * All-or-nothing: a wrong length or any NaN/±Inf in `flatGrads` throws before anything changes.
 */
export function adamApply(adam: Adam, net: Net, flatGrads: Float32Array): void {
  assertAlive(net, 'adamApply');
  if (!(flatGrads instanceof Float32Array)) throw new Error('adamApply: flatGrads must be a Float32Array');
  if (flatGrads.length !== adam.size) {
    throw new Error(`adamApply: expected ${adam.size} gradient values, got ${flatGrads.length}`);
  }
  const n = paramCount(net);
  if (n !== adam.size) throw new Error(`adamApply: optimizer is sized for ${adam.size} params, net has ${n}`);
  const k = kernels.get(adam);
  if (!k) throw new Error('adamApply: not an optimizer made by createAdam');
  k.g.set(flatGrads);
  const bad = k.firstNonFinite();
  if (bad >= 0) throw new Error(`adamApply: gradient ${bad} is ${flatGrads[bad]} (non-finite); weights left unchanged`);
  // Updated in place: the net's host copy, when it is this kernel's and current, is this step's starting point.
  if (!(net.host && net.host.version === net.version && net.host.w === k.w)) k.w.set(getFlatWeights(net));
  const { beta1: b1, beta2: b2, eps } = adam;
  const t = adam.step + 1;
  k.step(b1, 1 - b1, b2, 1 - b2, adam.lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t), eps);
  adam.step = t;
  setFlatWeights(net, k.w);
  net.host = { version: net.version, w: k.w };
}

/** A copy of the optimizer state, for checkpoints. */
export function adamState(adam: Adam): AdamState {
  return { step: adam.step, m: adam.m.slice(), v: adam.v.slice() };
}

/** Restores optimizer state saved by adamState (copies; throws on wrong lengths or a bad step). */
export function loadAdamState(adam: Adam, state: AdamState): void {
  if (!Number.isInteger(state.step) || state.step < 0) {
    throw new Error(`loadAdamState: step must be a non-negative integer, got ${state.step}`);
  }
  for (const k of ['m', 'v'] as const) {
    const a = state[k];
    if (!(a instanceof Float32Array) || a.length !== adam.size) {
      throw new Error(`loadAdamState: ${k} must be a Float32Array of ${adam.size} values, got ${a?.length}`);
    }
  }
  adam.step = state.step;
  adam.m.set(state.m);
  adam.v.set(state.v);
}
