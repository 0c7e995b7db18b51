/**
 * The training step against PyTorch (issue 10). For each case the product builds its GAN (buildGan, seeded init)
 * and writes, through its own PyTorch exporter (torchStateDict), the initial weights plus the real batches and z
 * of every step; test/torch/reference_step.py replays the steps with its own PyTorch definition of the family
 * (test/torch/gan_torch.py); the product runs the same steps through trainStep — the trainer's own step — and
 * everything is compared per tensor in PyTorch layout:
 *   - both losses of every step and G(z) of step 1;
 *   - every D gradient of step 1, D after its Adam update, and every G gradient of step 1 — with the G phase run
 *     through our updated D on both sides (see UPDATE_TOL): max |ours − torch| ≤ GRAD_TOL · max |torch| per tensor;
 *   - BatchNorm running statistics after step 1 and after the last step;
 *   - the weights after the last step, by what training changed (Δ = final − initial): Adam's first steps move
 *     almost every element by ±lr whatever the gradient's size, so an elementwise tolerance on the weights says
 *     nothing, while the relative L2 error of Δ does.
 * Biases that feed a BatchNorm are left out of the gradient and weight comparisons: BatchNorm subtracts any
 * per-channel constant, so their true gradient is zero and both frameworks return float rounding noise (checked to
 * be noise: below NOISE_TOL of the layer's weight gradient on both sides).
 * Kinks: a step's gradient is a discontinuous function of the data wherever a ReLU / LeakyReLU input sits within
 * float32 rounding of zero, since two frameworks may then take different branches (slope 1 vs 0 or 0.2). One such
 * unit in D's last hidden layer moved every G gradient by ~3 % (grayscale 32×32 on cpu vs wasm: one sign flip
 * among 16,384 inputs, |x| = 2e-6), and the document's DCGAN has ~1.5 M such inputs per step. So every step's
 * branches are recorded here (observeActivations) and replayed by the reference, which reports how many differ
 * from its own and how close to zero those are (at most MAX_KINKS, within KINK_TOL): both then differentiate the
 * same function. What still parts the runs after step 1 is Adam (see LATER_LOSS_TOL), hence the looser tolerances
 * for later steps (and LATER_KINK_TOL).
 * Issue 14's cases: --optimizer rmsprop against torch.optim.RMSprop (the "Adam" above is then RMSprop, whose first
 * step moves an element by up to 10·lr: see stepBound), and --spectral-norm against torch.nn.utils.spectral_norm on
 * every D conv/linear layer, its weight_u / weight_v buffers compared with the running statistics; and --unrolled U
 * (Metz et al., first-order: ../libs/training/src/unrolled-d.ts) against copy.deepcopy of D and of its optimiser's
 * state, U updates on batches and z of their own, G's phase through the copy; step 1's G phase runs through our
 * unrolled D on both sides (as through our updated D), PyTorch's own unrolled D compared with ours like the update.
 * Needs a Python with torch (Debian's python3-torch); without one the file skips loudly, in CI it fails.
 * Run: node tools/run-tests.mjs test torch-reference
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gan/backend';
import {
  buildGan, buffersToTorch, createOptimizer, dcganPlan, disposeGan, generateAsync, getFlatBuffers, getFlatWeights,
  observeActivations, paramsToTorch, syncHostCopies, torchStateDict, type GanLoss, type ModelConfig, type Net, type OptimizerKind,
  type TorchTensor,
} from '@gan/model';
import { readSafetensors, writeSafetensors, type NamedTensor } from '@gan/checkpoint';
import { openDataset } from '@gan/data';
import {
  batchNoise, globalRows, gpEpsilon, LocalReducer, observeUnrolledD, trainStep, type TrainState, type UnrollBatch,
} from '@gan/training';
import { tmpDir } from './helpers';
import { requireTorch, runTorchScript } from './torch-python';
import { nhwcToNchw } from './arrays';

/** Gradients, G(z) and running statistics after one step: max |ours − torch| ≤ this · max |torch| per tensor. */
const GRAD_TOL = 1e-4;
/** Losses of step 1: |ours − torch| ≤ this · max(1, |torch|). */
const LOSS_TOL = 1e-5;
/**
 * Losses of later steps. Adam turns a weight's gradient into a step of about ±lr whatever its size, so elements
 * whose true gradient is ~0 (float noise in both frameworks) take ±lr steps of random sign, and the runs part by
 * up to ~5e-5 relative from step 2 on (a wrong optimizer or step order parts them by far more: see DELTA_TOL).
 */
const LATER_LOSS_TOL = 1e-3;
/**
 * D's output bias gradient is mean(σ(real) − label) + mean(σ(fake)): a difference of O(0.5) terms that float32
 * resolves to 2^-24, rounded independently on each side, so it gets an absolute floor of two such ulps.
 */
const D_OUT_BIAS_FLOOR = 2 ** -23;
/**
 * Our activation branches are replayed in PyTorch (see the header); in step 1's D phase (both nets still at their
 * common initial weights) a replayed branch that differs from PyTorch's own must have an input within this share of
 * that call's largest |input| of zero...
 */
const KINK_TOL = 1e-5;
/** ...and there may be at most this many such units there. */
const MAX_KINKS = 16;
/**
 * From step 1's G phase on, D's weights have been through Adam, which parts the runs on elements whose gradient is
 * at the scale of Adam's eps (the MLP's d.fc2.bias: gradients 3.35e-8 vs 3.17e-8 give steps 0.77·lr vs 0.76·lr),
 * and an MLP's hidden pre-activations are small at init, so a replayed branch there may sit up to ~0.5 % of its
 * call's largest |input| from zero (measured: 4.3e-3). Inputs within this share of zero may take our branch, so
 * those phases still compare the gradient, the optimizer and the step's order rather than which side of a kink
 * each run landed on; what the parted weights do to the gradients is what the gradient tolerances then measure.
 */
const LATER_KINK_TOL = 1e-2;
/**
 * D right after step 1's Adam update, ours vs PyTorch's own: ‖Δours − Δtorch‖₂ ≤ this · ‖Δtorch‖₂ per tensor (Δ:
 * what the update changed). Adam's first step moves an element by lr·g/(|g| + eps), ≈ ±lr: where |g| is below the
 * two gradients' difference its sign may differ (a 2·lr difference: one such element of the document's
 * d.conv3.weight), and where |g| is at eps's scale float noise moves it by a share of lr (1e-2·lr, the MLP's
 * d.fc2.bias); a wrong Adam is off by O(1). Step 1's G phase then runs through our D on both sides, so G's
 * gradients are compared through the same D.
 */
const UPDATE_TOL = 1e-2;
/**
 * √(num / den): a relative L2 error from its squared sums; a tensor that training left unchanged on PyTorch's side
 * (den 0: the WGAN critic's output bias, whose gradient 1 − 1 is exactly zero) must be unchanged on ours.
 */
function relL2(num: number, den: number): number {
  return den > 0 ? Math.sqrt(num / den) : num === 0 ? 0 : Infinity;
}
/** PyTorch's (and our) BatchNorm momentum: a running mean takes this share of each batch mean. */
const BN_MOMENTUM = 0.1;
/**
 * Weights after the last step: ‖Δours − Δtorch‖₂ ≤ this · ‖Δtorch‖₂ per tensor. Loose by necessity (after step 1
 * the two runs amplify float noise: see LATER_LOSS_TOL and the kinks in the header) yet far below what a wrong
 * optimizer or step order gives (no bias correction: Δ 16× too large; D and G phases swapped or a wrong lr: O(1)).
 */
const DELTA_TOL = 2e-2;
/** Running statistics after the last step: max |ours − torch| ≤ this · max |torch|. */
const STATS_TOL = 1e-3;
/** A bias feeding a BatchNorm: its gradient must be below this · max |that layer's weight gradient| on both sides. */
const NOISE_TOL = 1e-3;

// The trainer's default --seed: the default case is then the first step of `gan-train train` with default flags.
const SEED = 1;
const DEFAULT: ModelConfig = { model: 'dcgan', imageSize: 64, channels: 3, nz: 100, ngf: 128, ndf: 64, norm: 'batch', mlpHidden: 512, dataDim: 2 };
const GRAY32: ModelConfig = { ...DEFAULT, imageSize: 32, channels: 1, nz: 32, ngf: 32, ndf: 32 };

interface Case {
  name: string;
  backend: 'wasm' | 'cpu' | 'webgpu';
  model: ModelConfig;
  batch: number;
  steps: number;
  loss: GanLoss;
  labelSmoothing: number;
  /** WGAN weight clipping after every D update (the trainer passes --clip for --loss wgan). */
  clip?: number;
  /** G minimises feature matching instead of the loss's G objective. */
  featureMatching?: boolean;
  /** Both nets' optimiser (default Adam; RMSprop: torch.optim.RMSprop's defaults with lr LR). */
  optimizer?: OptimizerKind;
  /** Seed of the dataset the case's real batches come from. */
  dataSeed: number;
  /** --unrolled U: each step's G phase through D advanced by U more updates, on batches and z of their own. */
  unrolled?: number;
}

const base = { batch: 8, steps: 3, loss: 'non-saturating' as GanLoss, labelSmoothing: 0, dataSeed: 1 };
const CASES: Case[] = [
  { ...base, name: 'the document DCGAN 3x64x64, batch 4, wasm', backend: 'wasm', model: DEFAULT, batch: 4 },
  { ...base, name: 'grayscale 32x32, wasm', backend: 'wasm', model: GRAY32 },
  { ...base, name: 'grayscale 32x32, cpu', backend: 'cpu', model: GRAY32 },
  { ...base, name: '28x28 (s0 = 7), wasm', backend: 'wasm', model: { ...GRAY32, imageSize: 28 } },
  { ...base, name: '--norm none, wasm', backend: 'wasm', model: { ...GRAY32, norm: 'none' } },
  { ...base, name: 'minimax G loss, wasm', backend: 'wasm', model: GRAY32, loss: 'minimax' },
  { ...base, name: 'label smoothing 0.1, wasm', backend: 'wasm', model: GRAY32, labelSmoothing: 0.1 },
  { ...base, name: 'hinge loss, wasm', backend: 'wasm', model: GRAY32, loss: 'hinge' },
  { ...base, name: 'wgan loss + weight clipping 0.01, wasm', backend: 'wasm', model: GRAY32, loss: 'wgan', clip: 0.01 },
  // The gradient penalty's gradient is a double backward (gradient-penalty.ts); its ε is ours, handed to PyTorch. The
  // DCGAN case runs on wasm and webgpu, cpu's double backward on the MLP (the DCGAN on cpu took 49 s of CI).
  { ...base, name: 'wgan-gp λ 10 (--norm none), wasm', backend: 'wasm', model: { ...GRAY32, norm: 'none' }, loss: 'wgan-gp' },
  { ...base, name: 'MLP, wgan-gp λ 10, cpu', backend: 'cpu', model: { ...DEFAULT, model: 'mlp', nz: 8, mlpHidden: 128 }, batch: 64, loss: 'wgan-gp' },
  { ...base, name: 'feature matching (BatchNorm D), wasm', backend: 'wasm', model: GRAY32, featureMatching: true },
  { ...base, name: 'MLP, feature matching, cpu', backend: 'cpu', model: { ...DEFAULT, model: 'mlp', nz: 8, mlpHidden: 128 }, batch: 64, featureMatching: true },
  { ...base, name: 'MLP, wasm', backend: 'wasm', model: { ...DEFAULT, model: 'mlp', nz: 8, mlpHidden: 128 }, batch: 64 },
  { ...base, name: 'wgan + clipping 0.01 + RMSprop (the WGAN paper\'s recipe), wasm', backend: 'wasm', model: GRAY32, loss: 'wgan', clip: 0.01, optimizer: 'rmsprop' },
  // torch.nn.utils.spectral_norm on every D conv/linear, u updated on every D forward (spectral-norm.ts).
  { ...base, name: 'spectral norm D (--norm none), hinge, wasm', backend: 'wasm', model: { ...GRAY32, norm: 'none', spectralNorm: true }, loss: 'hinge' },
  { ...base, name: 'spectral norm D with BatchNorm, wasm', backend: 'wasm', model: { ...GRAY32, spectralNorm: true } },
  { ...base, name: 'MLP, spectral norm, feature matching, cpu', backend: 'cpu', model: { ...DEFAULT, model: 'mlp', nz: 8, mlpHidden: 128, spectralNorm: true }, batch: 64, featureMatching: true },
  { ...base, name: 'MLP, minimax + label smoothing, cpu', backend: 'cpu', model: { ...DEFAULT, model: 'mlp', nz: 8, mlpHidden: 128 }, batch: 64, loss: 'minimax', labelSmoothing: 0.1 },
  // Unrolled GAN (first-order): D deep-copied with its optimiser's state; the copy's BatchNorm statistics are its own.
  { ...base, name: 'MLP, unrolled 3, cpu', backend: 'cpu', model: { ...DEFAULT, model: 'mlp', nz: 8, mlpHidden: 128 }, batch: 64, unrolled: 3 },
  { ...base, name: 'unrolled 2 (BatchNorm D), wasm', backend: 'wasm', model: GRAY32, unrolled: 2 },
  // The GPU backend (on CI's lavapipe, a software Vulkan driver; skipped without an adapter). The document's DCGAN
  // runs here and on wasm; on cpu (71 s a step in CI) the 32×32 case checks the step and test/layer-shapes every
  // layer of the document's DCGAN at its exact shapes.
  { ...base, name: 'the document DCGAN 3x64x64, batch 4, webgpu', backend: 'webgpu', model: DEFAULT, batch: 4, steps: 1 },
  { ...base, name: 'grayscale 32x32, webgpu', backend: 'webgpu', model: GRAY32 },
  { ...base, name: 'MLP, webgpu', backend: 'webgpu', model: { ...DEFAULT, model: 'mlp', nz: 8, mlpHidden: 128 }, batch: 64 },
  { ...base, name: 'wgan-gp λ 10 (--norm none), webgpu', backend: 'webgpu', model: { ...GRAY32, norm: 'none' }, loss: 'wgan-gp' },
];

const LR = 2e-4;
/**
 * The most an element can move in an optimiser's first step, whatever its gradient: Adam's lr·g/(|g| + eps) ≈ lr;
 * RMSprop's lr·g/(sqrt(0.01·g²) + eps) ≈ 10·lr (later steps less, as its square average fills up).
 */
const stepBound = (c: Case): number => (c.optimizer === 'rmsprop' ? 10 * LR : LR);
const BETA1 = 0.5;
const BETA2 = 0.999;

const dir = tmpDir('torch-reference');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Real batches from the product's own generated datasets, as a user's first run sees them (shapes for images,
 * ring8 for the MLP). Structured data matters: a mostly flat background gives every conv channel a large mean,
 * the case in which wasm's float32 running sums failed; uniform noise hid that bug (its sums barely cancel).
 */
async function realBatches(model: ModelConfig, batch: number, steps: number, seed: number): Promise<Float32Array[]> {
  const ds = await openDataset(model.model === 'mlp'
    ? { name: 'ring8', imageSize: 32, channels: 1, seed }
    : { name: 'shapes', imageSize: model.imageSize, channels: model.channels, seed });
  const out: Float32Array[] = [];
  for (let t = 0; t < steps; t++) {
    const buf = new Float32Array(batch * ds.sampleSize);
    await ds.read(Array.from({ length: batch }, (_, i) => t * batch + i), buf);
    out.push(buf);
  }
  return out;
}

/**
 * Biases whose output goes straight into a BatchNorm (gradient identically zero), mapped to that BatchNorm's name.
 * Linear and conv biases have the same names in both layouts.
 */
function biasesBeforeBatchNorm(net: Net): Map<string, string> {
  const nameOf = new Map(net.params.map((p) => [p.variable as object, p.name]));
  const out = new Map<string, string>();
  net.layers.forEach((l, i) => {
    const next = net.layers[i + 1];
    if ((l.kind === 'linear' || l.kind === 'conv' || l.kind === 'convT') && next?.kind === 'bn') out.set(nameOf.get(l.b)!, next.name);
  });
  return out;
}

/**
 * Per-channel allowance for a running mean fed by a noise bias: BatchNorm's output ignores the bias, its running
 * mean does not, and the bias drifts by ±lr of random sign per step (see NOISE_TOL): a running mean is a convex
 * combination of batch means, so it can differ by at most the largest bias difference seen, times the share
 * (BN_MOMENTUM after one step, at most 1 later) of the batches that saw it.
 */
function biasAllowance(ref: Map<string, { data: unknown }>, ours: Ours, stat: string, stage: 'weights1' | 'final', share: number, steps = 1, lr = LR): Float64Array | null {
  const bias = ours.meanBias.get(stat);
  if (!bias) return null;
  const mine = stage === 'weights1' ? ours.weights1.get(bias)! : ours.final.find((w) => w.name === bias)!.data;
  const theirs = asF32(ref.get(`${stage}.${bias}`), `${stage}.${bias}`);
  if (stage === 'weights1') return Float64Array.from(mine, (v, i) => share * Math.abs(v - theirs[i]));
  // After the last step: the largest of the differences seen after step 1 and at the end, plus what the steps in
  // between (not recorded) could add: an optimiser step moves an element by at most about `lr` on each side.
  const first = biasAllowance(ref, ours, stat, 'weights1', 1)!;
  return Float64Array.from(mine, (v, i) => share * (Math.max(Math.abs(v - theirs[i]), first[i]) + 2 * lr * Math.max(0, steps - 2)));
}

/**
 * Records the branch (input > 0) of every ReLU / LeakyReLU call of our steps, in PyTorch layout, and hands them
 * over in the order reference_step.py makes the calls: per step fake = G(z), D(real), D(fake.detach()), D(fake).
 * Our step runs G twice (the D phase's detached fakes, then the G phase) with the same weights: they must agree.
 */
function recordBranches(model: ModelConfig, batch: number) {
  type Call = { role: 'g' | 'd'; shape: number[]; mask: Uint8Array };
  const calls: Call[] = [];
  // A D without BatchNorm sees real and fake rows in one pass (steps.ts): its calls are split into the real half,
  // recorded at once, and the fake half, recorded after the pass, so the order is PyTorch's D(real), D(fake).
  const fakeHalves: Call[] = [];
  const flushFakes = (): void => {
    calls.push(...fakeHalves);
    fakeHalves.length = 0;
  };
  const plan = model.model === 'dcgan' ? dcganPlan(model) : null;
  // The observer runs inside the step, where webgpu cannot read: it keeps a copy of each input, and settle() reads
  // them all afterwards, asynchronously, in call order.
  const queue: { net: Net; shape: number[]; rank: number; t: tf.Tensor }[] = [];
  const observe = (net: Net, x: tf.Tensor): void => {
    queue.push({ net, shape: x.shape.slice(), rank: x.rank, t: tf.keep(tf.clone(x)) });
  };
  const settle = async (): Promise<void> => {
    for (const q of queue.splice(0)) {
      const v = (await q.t.data()) as Float32Array;
      q.t.dispose();
      record(q.net, q, v);
    }
  };
  const record = (net: Net, x: { shape: number[]; rank: number }, v: Float32Array): void => {
    let mask = Uint8Array.from(v, (e) => (e > 0 ? 1 : 0));
    let shape = x.shape;
    if (x.rank === 4) {
      const [b, h, w, ch] = x.shape;
      const m = new Uint8Array(mask.length);
      for (let n = 0; n < b; n++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < ch; k++) {
        m[((n * ch + k) * h + y) * w + xx] = mask[((n * h + y) * w + xx) * ch + k];
      }
      mask = m;
      shape = [b, ch, h, w];
    } else if (plan && net.role === 'g') {
      // G's first activation acts on (h,w,c)-ordered features; PyTorch's on (c,h,w) ones (before the view).
      const [b, f] = x.shape;
      const s0 = plan.s0;
      const c0 = plan.gWidths[0];
      const m = new Uint8Array(mask.length);
      for (let n = 0; n < b; n++) for (let k = 0; k < c0; k++) for (let y = 0; y < s0; y++) for (let xx = 0; xx < s0; xx++) {
        m[n * f + (k * s0 + y) * s0 + xx] = mask[n * f + (y * s0 + xx) * c0 + k];
      }
      mask = m;
    }
    if (net.role === 'd' && shape[0] === 2 * batch) {
      const half = mask.length / 2;
      const rows = [batch, ...shape.slice(1)];
      calls.push({ role: 'd', shape: rows, mask: mask.slice(0, half) });
      fakeHalves.push({ role: 'd', shape: rows, mask: mask.slice(half) });
      return;
    }
    flushFakes();
    calls.push({ role: net.role, shape, mask });
  };
  /**
   * All steps' calls, each step reordered: ours runs G, D(real), D(fake), G, D(fake); PyTorch G, D, D, D. With
   * feature matching (gPhaseD 2) the G phase runs D(real) then D(fake) on both sides.
   */
  const tensors = (nG: number, nD: number, gPhaseD = 1, dPhaseD = 2, unrolled = 0): NamedTensor[] => {
    flushFakes();
    // Each unrolled D update repeats the D phase's G, D, D (PyTorch draws its fakes with G too, then D, D).
    const gStart = (1 + unrolled) * (nG + dPhaseD * nD);
    const perStep = gStart + nG + gPhaseD * nD;
    assert.ok(calls.length > 0 && calls.length % perStep === 0, `${calls.length} activation calls are not whole steps of ${perStep}`);
    const order: typeof calls = [];
    for (let o = 0; o < calls.length; o += perStep) {
      const step = calls.slice(o, o + perStep);
      const roles = step.map((c) => c.role).join('');
      assert.equal(roles, ('g'.repeat(nG) + 'd'.repeat(dPhaseD * nD)).repeat(1 + unrolled) + 'g'.repeat(nG) + 'd'.repeat(gPhaseD * nD), 'a step runs G, D, D, G, D');
      for (let i = 0; i < nG; i++) assert.deepEqual(step[i].mask, step[gStart + i].mask, `G's branches in the D and G phases (call ${i})`);
      order.push(...step.slice(0, gStart), ...step.slice(gStart + nG));
    }
    return order.map((c, k) => ({ name: `branch.${k}`, dtype: 'U8', shape: c.shape, data: c.mask }));
  };
  return { observe, settle, tensors };
}

/** ‖Δours − Δtorch‖ / ‖Δtorch‖ of an update that moved `w0` to `ours` here and to `ref` in PyTorch (den: ‖Δtorch‖²). */
function updateError(ours: ArrayLike<number>, ref: ArrayLike<number>, w0: ArrayLike<number>): { e: number; den: number } {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (ours[i] - ref[i]) ** 2;
    den += (ref[i] - w0[i]) ** 2;
  }
  return { e: relL2(num, den), den };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function asF32(t: { data: unknown } | undefined, name: string): Float32Array {
  assert.ok(t, `the reference wrote no '${name}'`);
  assert.ok(t.data instanceof Float32Array, `'${name}' is not float32`);
  return t.data;
}

/** What the product computed, in PyTorch layout. */
interface Ours {
  dLoss: number[];
  gLoss: number[];
  gz: Float32Array;
  grads: TorchTensor[];
  stats1: TorchTensor[];
  initial: Map<string, Float32Array>;
  weights1: Map<string, Float32Array>;
  /** D after step 1 (= after its Adam update). */
  d1: TorchTensor[];
  /** --unrolled: step 1's unrolled D, which its G phase ran through (empty otherwise). */
  dUnrolled: TorchTensor[];
  final: TorchTensor[];
  finalStats: TorchTensor[];
  skip: Set<string>;
  /** running_mean name → the noise bias feeding that BatchNorm. */
  meanBias: Map<string, string>;
  /** Name of D's output bias. */
  dOutBias: string;
}

async function runCase(c: Case, inFile: string): Promise<Ours> {
  await initBackend(c.backend);
  const gan = buildGan(c.model, SEED);
  const opt = { optimizer: c.optimizer ?? 'adam', lr: LR, beta1: BETA1, beta2: BETA2 };
  const st: TrainState = { gan, optG: createOptimizer(gan.g, opt), optD: createOptimizer(gan.d, opt), step: 0 };
  // Every read below is asynchronous or answered from these host copies, as in the trainer, so a case also runs on
  // webgpu (which cannot read synchronously under Node).
  const syncHost = async () => {
    await syncHostCopies(gan.g);
    await syncHostCopies(gan.d);
  };
  try {
    await syncHost();
    const sampleShape = c.model.model === 'mlp' ? [c.model.dataDim] : [c.model.imageSize, c.model.imageSize, c.model.channels];
    const sd = torchStateDict(gan, { g: getFlatWeights(gan.g), d: getFlatWeights(gan.d), gBuffers: getFlatBuffers(gan.g), dBuffers: getFlatBuffers(gan.d) });
    // D update `it` of the run (the trainer's count: step t's own is t·(1 + U), its unrolled ones follow) reads
    // batch `it` and draws z and ε for `it`.
    const U = c.unrolled ?? 0;
    const reals = await realBatches(c.model, c.batch, c.steps * (1 + U), c.dataSeed);
    const zs: Float32Array[] = [];
    const epss: Float32Array[] = [];
    const inputs: NamedTensor[] = [];
    for (let it = 0; it < c.steps * (1 + U); it++) {
      zs.push(batchNoise(SEED, it, 0, c.batch, c.model.nz));
      if (c.loss === 'wgan-gp') epss.push(gpEpsilon(SEED, it, globalRows(0, 1, c.batch)));
      const t = Math.floor(it / (1 + U));
      const j = it % (1 + U);
      const tag = j === 0 ? `${t}` : `${t}.u${j - 1}`;
      const [h, w, ch] = sampleShape;
      inputs.push(c.model.model === 'mlp'
        ? { name: `input.real.${tag}`, dtype: 'F32', shape: [c.batch, ...sampleShape], data: reals[it] }
        : { name: `input.real.${tag}`, dtype: 'F32', shape: [c.batch, ch, h, w], data: nhwcToNchw(reals[it], c.batch, h, w, ch) });
      inputs.push({ name: `input.z.${tag}`, dtype: 'F32', shape: [c.batch, c.model.nz], data: zs[it] });
      if (c.loss === 'wgan-gp') inputs.push({ name: `input.eps.${tag}`, dtype: 'F32', shape: [c.batch], data: epss[it] });
    }
    const meta = {
      config: JSON.stringify(c.model), steps: String(c.steps), lr: String(LR), beta1: String(BETA1), beta2: String(BETA2),
      loss: c.loss, real_label: String(1 - c.labelSmoothing), ...(c.clip ? { clip: String(c.clip) } : {}),
      ...(c.featureMatching ? { feature_matching: '1' } : {}), ...(c.loss === 'wgan-gp' ? { gp_weight: '10' } : {}), ...(c.optimizer ? { optimizer: c.optimizer } : {}),
      ...(U ? { unrolled: String(U) } : {}),
    };

    const initial = new Map<string, Float32Array>();
    for (const e of sd) if (e.dtype === 'F32') initial.set(e.name, e.data);
    const z0 = tf.tensor2d(zs[0], [c.batch, c.model.nz]);
    const gzOurs = await generateAsync(gan, z0);
    z0.dispose();
    const [h, w, ch] = sampleShape;
    const gz = c.model.model === 'mlp' ? gzOurs : nhwcToNchw(gzOurs, c.batch, h, w, ch);

    const branches = recordBranches(c.model, c.batch);
    const reducer = new LocalReducer();
    const ours: Ours = {
      dLoss: [], gLoss: [], gz, grads: [], stats1: [], initial, weights1: new Map(), d1: [], dUnrolled: [], final: [], finalStats: [],
      skip: new Set([...biasesBeforeBatchNorm(gan.g).keys(), ...biasesBeforeBatchNorm(gan.d).keys()]),
      meanBias: new Map([...biasesBeforeBatchNorm(gan.g), ...biasesBeforeBatchNorm(gan.d)].map(([b, bn]) => [`${bn}.running_mean`, b])),
      dOutBias: gan.d.params.at(-1)!.name,
    };
    for (let t = 0; t < c.steps; t++) {
      const it = t * (1 + U);
      const real = tf.tensor(reals[it], [c.batch, ...sampleShape]);
      const z = tf.tensor2d(zs[it], [c.batch, c.model.nz]);
      const eps = c.loss === 'wgan-gp' ? tf.tensor1d(epss[it]) : undefined;
      const unrolled: UnrollBatch[] = Array.from({ length: U }, (_, j) => ({
        real: tf.tensor(reals[it + 1 + j], [c.batch, ...sampleShape]),
        z: tf.tensor2d(zs[it + 1 + j], [c.batch, c.model.nz]),
        ...(c.loss === 'wgan-gp' ? { gpEpsilon: tf.tensor1d(epss[it + 1 + j]) } : {}),
      }));
      observeActivations(branches.observe);
      if (t === 0) observeUnrolledD((s) => (ours.dUnrolled = paramsToTorch(s.gan.d, getFlatWeights(s.gan.d))));
      try {
        const r = await trainStep(st, real, z, reducer, {
          realLabel: 1 - c.labelSmoothing, loss: c.loss, clip: c.clip ?? null, featureMatching: c.featureMatching ?? false,
          ...(eps ? { gpWeight: 10, gpEpsilon: eps } : {}),
        }, unrolled);
        await syncHost();
        ours.dLoss.push(r.d.dLoss);
        ours.gLoss.push(r.g.gLoss);
        if (t === 0) {
          ours.grads = [...paramsToTorch(gan.d, r.d.grads), ...paramsToTorch(gan.g, r.g.grads)];
          ours.stats1 = [...buffersToTorch(gan.g, getFlatBuffers(gan.g)), ...buffersToTorch(gan.d, getFlatBuffers(gan.d))];
          for (const net of [gan.g, gan.d]) for (const w of paramsToTorch(net, getFlatWeights(net))) ours.weights1.set(w.name, w.data);
          ours.d1 = paramsToTorch(gan.d, getFlatWeights(gan.d));
        }
      } finally {
        observeActivations(null);
        observeUnrolledD(null);
        real.dispose();
        z.dispose();
        eps?.dispose();
        for (const u of unrolled) tf.dispose([u.real, u.z, ...(u.gpEpsilon ? [u.gpEpsilon] : [])]);
      }
    }
    await branches.settle();
    const acts = (n: Net) => n.layers.filter((l) => l.kind === 'relu' || l.kind === 'lrelu').length;
    // wgan-gp's D phase runs D a third time, on the interpolates, after D(real) and D(fake).
    inputs.push(...branches.tensors(acts(gan.g), acts(gan.d), c.featureMatching ? 2 : 1, c.loss === 'wgan-gp' ? 3 : 2, U));
    // Our D after step 1's D update (the G phase never changes D): step 1's G phase runs through it there too.
    for (const w of ours.d1) inputs.push({ name: `d_after.${w.name.slice(2)}`, dtype: 'F32', shape: w.shape, data: w.data });
    // Likewise our unrolled D: step 1's G phase runs through it on both sides.
    for (const w of ours.dUnrolled) inputs.push({ name: `d_unrolled.${w.name.slice(2)}`, dtype: 'F32', shape: w.shape, data: w.data });
    await writeSafetensors(inFile, [...sd, ...inputs], meta);
    ours.final = [...paramsToTorch(gan.g, getFlatWeights(gan.g)), ...paramsToTorch(gan.d, getFlatWeights(gan.d))];
    ours.finalStats = [...buffersToTorch(gan.g, getFlatBuffers(gan.g)), ...buffersToTorch(gan.d, getFlatBuffers(gan.d))];
    return ours;
  } finally {
    disposeGan(gan);
  }
}

/** Why the webgpu cases cannot run here (no adapter, or the `webgpu` package does not load), or null. */
async function webgpuMissing(): Promise<string | null> {
  try {
    const webgpu = (await import('webgpu')) as unknown as { create(flags: string[]): { requestAdapter(): Promise<object | null> } };
    return (await webgpu.create([]).requestAdapter()) ? null : 'no WebGPU adapter on this machine (install lavapipe: bash tools/lavapipe.sh)';
  } catch (e) {
    return `npm package 'webgpu' does not load here: ${(e as Error).message.split('\n')[0]}`;
  }
}

for (const c of CASES) {
  test(`one training step equals PyTorch's: ${c.name}`, { timeout: 900_000 }, async (t) => {
    if (!requireTorch(t)) return;
    if (c.backend === 'webgpu') {
      const missing = await webgpuMissing();
      if (missing) return t.skip(missing);
    }
    const slug = c.name.replace(/[^a-z0-9]+/gi, '-');
    const inFile = path.join(dir, `${slug}.in.safetensors`);
    const outFile = path.join(dir, `${slug}.out.safetensors`);
    const ours = await runCase(c, inFile);
    runTorchScript('reference_step.py', [inFile, outFile], 600_000);
    const ref = (await readSafetensors(outFile)).tensors;
    const worst: Record<string, string> = {};
    const note = (k: string, v: number) => (worst[k] = v.toExponential(2));

    const refD = asF32(ref.get('loss.d'), 'loss.d');
    const refG = asF32(ref.get('loss.g'), 'loss.g');
    for (let s = 0; s < c.steps; s++) {
      const tol = s === 0 ? LOSS_TOL : LATER_LOSS_TOL;
      assert.ok(Math.abs(ours.dLoss[s] - refD[s]) <= tol * Math.max(1, Math.abs(refD[s])), `step ${s + 1} D loss: ours ${ours.dLoss[s]}, torch ${refD[s]}`);
      assert.ok(Math.abs(ours.gLoss[s] - refG[s]) <= tol * Math.max(1, Math.abs(refG[s])), `step ${s + 1} G loss: ours ${ours.gLoss[s]}, torch ${refG[s]}`);
    }
    const gz = asF32(ref.get('gz'), 'gz');
    note('G(z)', maxDiff(ours.gz, gz) / maxAbs(gz));
    assert.ok(maxDiff(ours.gz, gz) <= GRAD_TOL * maxAbs(gz), `G(z): max diff ${maxDiff(ours.gz, gz)} of max ${maxAbs(gz)}`);

    // Per phase: [step 1 D, step 1 G, step 2 D, ...].
    const kinks = asF32(ref.get('kinks.count'), 'kinks.count');
    const kinkWorst = asF32(ref.get('kinks.worst'), 'kinks.worst');
    const kinkCall = asF32(ref.get('kinks.call'), 'kinks.call');
    assert.equal(kinks.length, 2 * c.steps);
    worst.kinks = Array.from(kinks, (k, i) => `${k} ≤ ${kinkWorst[i].toExponential(1)}`).join(', ');
    assert.ok(kinks[0] <= MAX_KINKS && kinkWorst[0] <= KINK_TOL, `step 1, D phase: ${kinks[0]} activation inputs took another branch than in PyTorch, the farthest ${kinkWorst[0]} of its call's max |x| from zero, in the phase's activation call ${kinkCall[0]} (allowed: ${MAX_KINKS}, ${KINK_TOL})`);
    for (let p = 1; p < kinks.length; p++) {
      assert.ok(kinkWorst[p] <= LATER_KINK_TOL, `step ${(p >> 1) + 1}, ${p % 2 ? 'G' : 'D'} phase: a replayed branch had an input ${kinkWorst[p]} of its call's max |x| from zero, in call ${kinkCall[p]} (allowed ${LATER_KINK_TOL})`);
    }
    // Step 1's D update: PyTorch's own Adam step from its own gradients vs ours, before the G phase used ours.
    let worstUpdate = 0;
    for (const w of ours.d1) {
      if (ours.skip.has(w.name)) continue;
      const r = asF32(ref.get(`dupdate.${w.name}`), `dupdate.${w.name}`);
      const e = updateError(w.data, r, ours.initial.get(w.name)!).e;
      worstUpdate = Math.max(worstUpdate, e);
      assert.ok(e <= UPDATE_TOL, `${w.name} after step 1's Adam update: ‖Δours − Δtorch‖ / ‖Δtorch‖ = ${e.toExponential(2)} (tolerance ${UPDATE_TOL})`);
      assert.ok(maxDiff(w.data, r) <= 2.01 * stepBound(c), `${w.name}: an element's first optimiser step differs by more than twice its bound ${stepBound(c)}`);
    }
    note('D update', worstUpdate);
    // --unrolled: PyTorch's own unrolled D of step 1 (U updates of a deep copy, from our updated D) vs ours, by what
    // the unrolled updates changed; each moves an element by at most stepBound.
    if (c.unrolled) {
      assert.equal(ours.dUnrolled.length, ours.d1.length, 'the unrolled D was not observed');
      const start = new Map(ours.d1.map((w) => [w.name, w.data]));
      let worstUnrolled = 0;
      for (const w of ours.dUnrolled) {
        if (ours.skip.has(w.name)) continue;
        const r = asF32(ref.get(`dunrolled.${w.name}`), `dunrolled.${w.name}`);
        const { e, den } = updateError(w.data, r, start.get(w.name)!);
        worstUnrolled = Math.max(worstUnrolled, e);
        assert.ok(den > 0, `${w.name}: the unrolled updates changed nothing in PyTorch`);
        assert.ok(e <= UPDATE_TOL, `${w.name} after step 1's ${c.unrolled} unrolled updates: ‖Δours − Δtorch‖ / ‖Δtorch‖ = ${e.toExponential(2)} (tolerance ${UPDATE_TOL})`);
        assert.ok(maxDiff(w.data, r) <= 2.01 * c.unrolled * stepBound(c), `${w.name}: the unrolled updates differ by more than twice their bound`);
      }
      note('unrolled D', worstUnrolled);
    }
    let worstGrad = 0;
    for (const g of ours.grads) {
      const r = asF32(ref.get(`grad.${g.name}`), `grad.${g.name}`);
      assert.deepEqual(ref.get(`grad.${g.name}`)!.shape, g.shape, `${g.name}: shape`);
      if (ours.skip.has(g.name)) {
        // A spectrally normalized layer's weight is `weight_orig` in PyTorch's names.
        const weight = ['.weight', '.weight_orig'].map((w) => g.name.replace(/\.bias$/, w)).find((w) => ref.has(`grad.${w}`)) ?? g.name;
        const scale = maxAbs(asF32(ref.get(`grad.${weight}`), weight));
        assert.ok(maxAbs(r) <= NOISE_TOL * scale && maxAbs(g.data) <= NOISE_TOL * scale, `${g.name} feeds a BatchNorm, its gradient must be noise: torch ${maxAbs(r)}, ours ${maxAbs(g.data)}, weight gradient ${scale}`);
        continue;
      }
      const e = maxDiff(g.data, r) / maxAbs(r);
      worstGrad = Math.max(worstGrad, e);
      const key = `grad ${g.name.slice(0, 1)}`;
      if (e > (Number(worst[key]?.split(' ')[0]) || 0)) worst[key] = `${e.toExponential(2)} ${g.name}`;
      const floor = g.name === ours.dOutBias ? D_OUT_BIAS_FLOOR : 0;
      assert.ok(maxDiff(g.data, r) <= GRAD_TOL * maxAbs(r) + floor, `gradient ${g.name}: max |ours − torch| = ${maxDiff(g.data, r)} = ${e.toExponential(2)} of its max ${maxAbs(r)} (tolerance ${GRAD_TOL})`);
    }
    const compareStats = (mine: TorchTensor[], stage: 'stats1' | 'final', tol: number) => {
      for (const st of mine) {
        const r = asF32(ref.get(`${stage}.${st.name}`), `${stage}.${st.name}`);
        const allow = biasAllowance(ref, ours, st.name, stage === 'stats1' ? 'weights1' : 'final', stage === 'stats1' ? BN_MOMENTUM : 1, c.steps, stepBound(c));
        const scale = tol * maxAbs(r);
        for (let i = 0; i < r.length; i++) {
          const lim = scale + (allow ? allow[i] : 0);
          if (Math.abs(st.data[i] - r[i]) > lim) {
            assert.fail(`${st.name} ${stage === 'stats1' ? 'after step 1' : `after step ${c.steps}`} [${i}]: ours ${st.data[i]}, torch ${r[i]} (allowed ${lim}, max |torch| ${maxAbs(r)})`);
          }
        }
      }
    };
    compareStats(ours.stats1, 'stats1', GRAD_TOL);
    compareStats(ours.finalStats, 'final', STATS_TOL);
    let worstDelta = 0;
    for (const w of ours.final) {
      if (ours.skip.has(w.name)) continue;
      const r = asF32(ref.get(`final.${w.name}`), `final.${w.name}`);
      const w0 = ours.initial.get(w.name)!;
      let num = 0;
      let den = 0;
      for (let i = 0; i < r.length; i++) {
        const dr = r[i] - w0[i];
        const d = w.data[i] - w0[i] - dr;
        num += d * d;
        den += dr * dr;
      }
      const e = relL2(num, den);
      worstDelta = Math.max(worstDelta, e);
      assert.ok(e <= DELTA_TOL, `${w.name} after ${c.steps} steps: ‖Δours − Δtorch‖ / ‖Δtorch‖ = ${e.toExponential(2)} (tolerance ${DELTA_TOL})`);
    }
    note('Δweights', worstDelta);
    process.stderr.write(`# ${c.name}: worst relative errors ${JSON.stringify(worst)}; losses ours ${ours.dLoss.map((x) => x.toFixed(5))} / ${ours.gLoss.map((x) => x.toFixed(5))}, torch ${Array.from(refD, (x) => x.toFixed(5))} / ${Array.from(refG, (x) => x.toFixed(5))}\n`);
  });
}
