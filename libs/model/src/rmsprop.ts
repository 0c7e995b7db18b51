/**
 * RMSprop with PyTorch semantics (torch.optim.RMSprop with its defaults: alpha 0.99, eps 1e-8, no momentum, not
 * centered, weight_decay 0), the WGAN paper's optimiser, applied to a flat gradient vector. Same design as adam.ts
 * (see there for why it runs on the host): a WebAssembly SIMD loop (wasm/rmsprop.wat) over float32 arrays in the
 * optimizer's own wasm memory, float64 arithmetic in a fixed order, so identical gradients give bit-identical weights
 * on every replica. Tested in rmsprop.test.ts (`node tools/run-tests.mjs libs/model rmsprop`) and against
 * torch.optim.RMSprop in test/torch-reference.test.ts. Not a runnable file.
 */
import { assertAlive, type Net } from './gan';
import { getFlatWeights, paramCount, setFlatWeights } from './flat';
import { createOptimizerKernel } from './optimizer-kernel';
import { rmspropWasm } from './wasm/generated/rmsprop.wasm';

export interface RmsPropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
}

/** Optimizer state for one network. `lr` may be changed between steps. */
export interface RmsProp {
  lr: number;
  readonly alpha: number;
  readonly eps: number;
  /** Length of the flat vectors (paramCount of the net it was created for). */
  readonly size: number;
  /** Number of updates applied so far (PyTorch's `step`; the update itself does not use it). */
  step: number;
  /** PyTorch's `square_avg`, flat order (updated in place). */
  readonly squareAvg: Float32Array;
}

/** Serializable optimizer state for checkpoints. */
export interface RmsPropState {
  step: number;
  squareAvg: Float32Array;
}

/** Each optimizer's wasm instance: weights, square average and gradient (./optimizer-kernel). */
interface Kernel {
  readonly w: Float32Array;
  readonly g: Float32Array;
  firstNonFinite(): number;
  step(alpha: number, lr: number, eps: number): void;
}

const kernels = new WeakMap<RmsProp, Kernel>();
let compiled: WebAssembly.Module | null = null;

/** Creates zeroed RMSprop state sized for `net`. Throws a one-line error for a bad hyper-parameter. */
export function createRmsProp(net: Net, opts: RmsPropOptions = {}): RmsProp {
  const lr = opts.lr ?? 1e-2;
  const alpha = opts.alpha ?? 0.99;
  const eps = opts.eps ?? 1e-8;
  if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`createRmsProp: lr must be a non-negative number, got ${lr}`);
  if (!(Number.isFinite(alpha) && alpha >= 0 && alpha < 1)) throw new Error(`createRmsProp: alpha must be in [0, 1), got ${alpha}`);
  if (!(Number.isFinite(eps) && eps > 0)) throw new Error(`createRmsProp: eps must be a positive number, got ${eps}`);
  const size = paramCount(net);
  compiled ??= new WebAssembly.Module(rmspropWasm());
  const k = createOptimizerKernel(compiled, 3, size, 'createRmsProp');
  const [w, s, g] = k.arrays;
  const opt: RmsProp = { lr, alpha, eps, size, step: 0, squareAvg: s };
  kernels.set(opt, {
    w,
    g,
    firstNonFinite: () => k.firstNonFinite(2),
    // wasm/rmsprop.wat's step(w, s, g, n4, alpha, 1 − alpha, lr, eps), offsets in bytes.
    step: (al, rate, e) => k.step((at, count) => [...at, count, al, 1 - al, rate, e]),
  });
  return opt;
}

/**
 * One RMSprop update of `net` from a flat gradient (net's flat order; typically the all-reduced mean):
 *   t += 1; s = α·s + (1−α)·g²; θ −= lr · g / (sqrt(s) + eps)
 * All-or-nothing: a wrong length or any NaN/±Inf in `flatGrads` throws before anything changes.
 */
export function rmspropApply(opt: RmsProp, net: Net, flatGrads: Float32Array): void {
  assertAlive(net, 'rmspropApply');
  if (!(flatGrads instanceof Float32Array)) throw new Error('rmspropApply: flatGrads must be a Float32Array');
  if (flatGrads.length !== opt.size) throw new Error(`rmspropApply: expected ${opt.size} gradient values, got ${flatGrads.length}`);
  const n = paramCount(net);
  if (n !== opt.size) throw new Error(`rmspropApply: optimizer is sized for ${opt.size} params, net has ${n}`);
  const k = kernels.get(opt);
  if (!k) throw new Error('rmspropApply: not an optimizer made by createRmsProp');
  k.g.set(flatGrads);
  const bad = k.firstNonFinite();
  if (bad >= 0) throw new Error(`rmspropApply: gradient ${bad} is ${flatGrads[bad]} (non-finite); weights left unchanged`);
  // As in adamApply: the net's host copy, when it is this kernel's and current, is this step's starting point.
  if (!(net.host && net.host.version === net.version && net.host.w === k.w)) k.w.set(getFlatWeights(net));
  k.step(opt.alpha, opt.lr, opt.eps);
  opt.step += 1;
  setFlatWeights(net, k.w);
  net.host = { version: net.version, w: k.w };
}

/** A copy of the optimizer state, for checkpoints. */
export function rmspropState(opt: RmsProp): RmsPropState {
  return { step: opt.step, squareAvg: opt.squareAvg.slice() };
}

/** Restores state saved by rmspropState (copies; throws on a wrong length or a bad step). */
export function loadRmsPropState(opt: RmsProp, state: RmsPropState): void {
  if (!Number.isInteger(state.step) || state.step < 0) {
    throw new Error(`loadRmsPropState: step must be a non-negative integer, got ${state.step}`);
  }
  const a = state.squareAvg;
  if (!(a instanceof Float32Array) || a.length !== opt.size) {
    throw new Error(`loadRmsPropState: squareAvg must be a Float32Array of ${opt.size} values, got ${a?.length}`);
  }
  opt.step = state.step;
  opt.squareAvg.set(a);
}
