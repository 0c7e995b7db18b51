/**
 * Builds the generator and discriminator (DCGAN family or MLP) as plain lists of layers over tf.variables, and
 * runs their forward passes. Not a runnable file; see index.ts for the public API and the flat-order contract.
 */
import { tf } from './tf';
import { batchNormTrain, disposeStats, fusesActivation, runningUpdate, type BatchNormOptions, type BatchStats } from './batch-norm';
import { biasActivation, fusesBiasActivation, type Activation } from './bias-activation';
import { conv4s2, convT4s2 } from './conv';
import { dcganPlan, validateModelConfig, type ModelConfig } from './model-config';
import { Rng, STREAM } from './rng';
import { initialVectors, spectralWeight, type SpectralVectors } from './spectral-norm';

/** A variable with its stable, documented name (e.g. `g.fc.weight`). */
export interface NamedVariable {
  readonly name: string;
  readonly variable: tf.Variable;
}

/** One step of a network's forward pass. Weights use TF layouts (see index.ts). */
export type Layer =
  | { kind: 'linear'; w: tf.Variable; b: tf.Variable; sn?: SpectralVectors }
  | { kind: 'conv'; w: tf.Variable; b: tf.Variable; sn?: SpectralVectors }
  | { kind: 'convT'; w: tf.Variable; b: tf.Variable }
  | { kind: 'bn'; name: string; gamma: tf.Variable; beta: tf.Variable; mean: tf.Variable; var: tf.Variable }
  | { kind: 'relu' }
  | { kind: 'lrelu' }
  | { kind: 'tanh' }
  | { kind: 'reshape'; shape: number[] }
  | { kind: 'flatten' };

/** One network (G or D). Treat as opaque outside this lib except for `params`/`buffers` names and shapes. */
export interface Net {
  readonly role: 'g' | 'd';
  /** Trainable variables in the fixed flat order (build order; weight then bias; gamma then beta). */
  readonly params: readonly NamedVariable[];
  /**
   * Non-trainable buffers in build order: BatchNorm running statistics (running_mean then running_var per BN) and,
   * with spectral norm, each normalized layer's power-iteration vectors (weight_u then weight_v, after its bias).
   */
  readonly buffers: readonly NamedVariable[];
  /** Per-sample input shape: G [nz]; D [H,W,C] (dcgan) or [dataDim] (mlp). */
  readonly inputShape: readonly number[];
  /** Per-sample output shape: G [H,W,C] or [dataDim]; D [1] (a logit; D(x) = sigmoid of it). */
  readonly outputShape: readonly number[];
  readonly layers: readonly Layer[];
  /** Bumped on every weight write made through this lib (keeps `host` honest). */
  version: number;
  /** Host copy of the weights as of `version` (written by adamApply): getFlatWeights copies it instead of reading the device. */
  host: { version: number; w: Float32Array } | null;
  /**
   * Host copy of the BatchNorm running stats, valid while every buffer variable still holds the data it held when
   * the copy was made (an assign gives a variable new data), so getFlatBuffers needs no device read.
   */
  hostBuffers: { ids: readonly object[]; b: Float32Array } | null;
  disposed: boolean;
}

/** A generator/discriminator pair built from one config and seed. */
export interface Gan {
  readonly cfg: Readonly<ModelConfig>;
  readonly seed: number;
  readonly g: Net;
  readonly d: Net;
}

const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;
const LRELU_SLOPE = 0.2;
const INIT_STD = 0.02;

/** Collects variables in build order while drawing their init from one seeded stream. */
class Builder {
  readonly params: NamedVariable[] = [];
  readonly buffers: NamedVariable[] = [];
  readonly layers: Layer[] = [];
  constructor(
    private readonly prefix: 'g' | 'd',
    private readonly rng: Rng,
    /** Set: every linear and conv layer is spectrally normalized, its u and v drawn from this stream. */
    private readonly spectral: Rng | null = null,
  ) {}

  private param(name: string, shape: number[], init: 'normal' | 'one-normal' | 'zero'): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (init === 'normal') this.rng.fillNormal(data, 0, INIT_STD);
    else if (init === 'one-normal') this.rng.fillNormal(data, 1, INIT_STD);
    // No tf name: tf variable names are process-global, and several GANs (replicas, tests) may coexist.
    const v = tf.tidy(() => tf.variable(tf.tensor(data, shape), true)); // tidy frees the initial-value handle
    this.params.push({ name: `${this.prefix}.${name}`, variable: v });
    return v;
  }

  private buffer(name: string, shape: number[], value: number | Float32Array): tf.Variable {
    const v = tf.tidy(() => tf.variable(typeof value === 'number' ? tf.fill(shape, value) : tf.tensor(value, shape), false));
    this.buffers.push({ name: `${this.prefix}.${name}`, variable: v });
    return v;
  }

  /** The power-iteration buffers of a spectrally normalized layer whose weight is an [out, rest] matrix. */
  private sn(name: string, out: number, rest: number): SpectralVectors | undefined {
    if (!this.spectral) return undefined;
    const init = initialVectors(this.spectral, out, rest);
    return { u: this.buffer(`${name}.weight_u`, [out], init.u), v: this.buffer(`${name}.weight_v`, [rest], init.v) };
  }

  /** Linear in→out; weight [in,out] (PyTorch stores [out,in]), bias [out]. */
  linear(name: string, inF: number, outF: number): void {
    const w = this.param(`${name}.weight`, [inF, outF], 'normal');
    const b = this.param(`${name}.bias`, [outF], 'zero');
    this.layers.push({ kind: 'linear', w, b, sn: this.sn(name, outF, inF) });
  }

  /** Conv k4 s2 p1; weight [4,4,in,out] (PyTorch [out,in,4,4]), bias [out]. */
  conv(name: string, inC: number, outC: number): void {
    const w = this.param(`${name}.weight`, [4, 4, inC, outC], 'normal');
    const b = this.param(`${name}.bias`, [outC], 'zero');
    this.layers.push({ kind: 'conv', w, b, sn: this.sn(name, outC, 16 * inC) });
  }

  /** ConvTranspose k4 s2 p1; weight [4,4,out,in] (PyTorch [in,out,4,4]), bias [out]. */
  convT(name: string, inC: number, outC: number): void {
    const w = this.param(`${name}.weight`, [4, 4, outC, inC], 'normal');
    const b = this.param(`${name}.bias`, [outC], 'zero');
    this.layers.push({ kind: 'convT', w, b });
  }

  /** BatchNorm over the last axis (features of [B,F] or channels of [B,H,W,C]). */
  bn(name: string, features: number): void {
    const gamma = this.param(`${name}.gamma`, [features], 'one-normal');
    const beta = this.param(`${name}.beta`, [features], 'zero');
    const mean = this.buffer(`${name}.running_mean`, [features], 0);
    const v = this.buffer(`${name}.running_var`, [features], 1);
    this.layers.push({ kind: 'bn', name: `${this.prefix}.${name}`, gamma, beta, mean, var: v });
  }

  act(kind: 'relu' | 'lrelu' | 'tanh'): void {
    this.layers.push({ kind });
  }

  net(inputShape: number[], outputShape: number[]): Net {
    return {
      role: this.prefix,
      params: this.params,
      buffers: this.buffers,
      inputShape,
      outputShape,
      layers: this.layers,
      version: 0,
      host: null,
      hostBuffers: null,
      disposed: false,
    };
  }
}

/**
 * Builds G and D with the pytorch/examples DCGAN init (conv/linear weights N(0, 0.02), biases 0, BN gamma
 * N(1, 0.02), beta 0), drawn from seeded streams: the same cfg and seed give bit-identical weights.
 * G and D use separate streams, so changing one network's size leaves the other's init unchanged.
 * Throws a one-line error for a bad config (e.g. an image size the family cannot make).
 */
export function buildGan(cfg: ModelConfig, seed: number): Gan {
  validateModelConfig(cfg);
  if (!Number.isSafeInteger(seed)) throw new Error(`buildGan: seed must be an integer, got ${seed}`);
  const gb = new Builder('g', new Rng(seed, STREAM.g));
  // Spectral norm's vectors come from a stream of their own: D's weights are the same with it on or off.
  const db = new Builder('d', new Rng(seed, STREAM.d), cfg.spectralNorm ? new Rng(seed, STREAM.spectral) : null);
  let g: Net;
  let d: Net;
  if (cfg.model === 'mlp') {
    const h = cfg.mlpHidden;
    gb.linear('fc1', cfg.nz, h);
    gb.act('relu');
    gb.linear('fc2', h, h);
    gb.act('relu');
    gb.linear('fc3', h, cfg.dataDim);
    g = gb.net([cfg.nz], [cfg.dataDim]);
    db.linear('fc1', cfg.dataDim, h);
    db.act('lrelu');
    db.linear('fc2', h, h);
    db.act('lrelu');
    db.linear('fc3', h, 1);
    d = db.net([cfg.dataDim], [1]);
  } else {
    const { s0, stages, gWidths, dWidths } = dcganPlan(cfg);
    const bn = cfg.norm === 'batch';
    const c0 = gWidths[0];
    gb.linear('fc', cfg.nz, c0 * s0 * s0);
    if (bn) gb.bn('bn0', c0 * s0 * s0);
    gb.act('relu');
    gb.layers.push({ kind: 'reshape', shape: [s0, s0, c0] });
    for (let i = 1; i <= stages; i++) {
      gb.convT(`deconv${i}`, gWidths[i - 1], gWidths[i]);
      if (i < stages) {
        if (bn) gb.bn(`bn${i}`, gWidths[i]);
        gb.act('relu');
      } else {
        gb.act('tanh');
      }
    }
    const img = [cfg.imageSize, cfg.imageSize, cfg.channels];
    g = gb.net([cfg.nz], img);
    for (let i = 1; i <= stages; i++) {
      db.conv(`conv${i}`, dWidths[i - 1], dWidths[i]);
      if (i > 1 && bn) db.bn(`bn${i}`, dWidths[i]);
      db.act('lrelu');
    }
    db.layers.push({ kind: 'flatten' });
    db.linear('fc', dWidths[stages] * s0 * s0, 1);
    d = db.net(img, [1]);
  }
  return { cfg: { ...cfg }, seed, g, d };
}

/** Frees every variable of both networks. Further use of the GAN throws. */
export function disposeGan(gan: Gan): void {
  for (const net of [gan.g, gan.d]) {
    if (net.disposed) continue;
    net.disposed = true;
    for (const p of [...net.params, ...net.buffers]) p.variable.dispose();
  }
}

/** A pending BatchNorm running-stat write, applied after the forward/backward pass. */
export interface StatUpdate {
  target: tf.Variable;
  value: tf.Tensor;
}

export function assertAlive(net: Net, fn: string): void {
  if (net.disposed) throw new Error(`${fn}: the GAN has been disposed`);
}

/** Sees every ReLU / LeakyReLU input of a forward pass (before the activation), in call order. */
export type ActivationObserver = (net: Net, preActivation: tf.Tensor) => void;
let observer: ActivationObserver | null = null;

/**
 * Diagnostics hook: `fn` sees each ReLU / LeakyReLU input of every forward pass until it is replaced (null turns it
 * off). The PyTorch reference suite records the branch each unit took with it: where an input is within float32
 * rounding of zero, two correct frameworks may take different branches. Costs nothing when unset.
 */
export function observeActivations(fn: ActivationObserver | null): void {
  observer = fn;
}

/**
 * Forward pass in training mode (BatchNorm normalizes with batch statistics, like PyTorch's train(); a spectrally
 * normalized layer does one power-iteration step, see spectral-norm.ts). When `pending` is given, each BN appends
 * its new running mean/var (momentum 0.1; running var uses the unbiased batch variance) and each spectrally
 * normalized layer its new u and v as kept tensors for the caller to assign afterwards; with null the buffers stay
 * as they are. Returns G's images/points or D's logits [B,1]. Call inside tf.tidy.
 */
export function forward(net: Net, x: tf.Tensor, pending: StatUpdate[] | null): tf.Tensor {
  return runLayers(net, net.layers, x, pending);
}

/**
 * D's last hidden features: the input of its final linear layer ([B, ndf·8·s0·s0] flattened NHWC for the DCGAN,
 * [B, hidden] for the MLP), training mode as in `forward`. What feature matching compares. Call inside tf.tidy.
 */
export function features(net: Net, x: tf.Tensor, pending: StatUpdate[] | null): tf.Tensor {
  if (net.layers.at(-1)?.kind !== 'linear') throw new Error(`features: ${net.role}'s last layer is not linear`);
  return runLayers(net, net.layers.slice(0, -1), x, pending);
}

/** The activation a layer of `kind` applies, for the fused ops; undefined for other layers. */
function activationOf(kind: Layer['kind'] | undefined): Activation | undefined {
  return kind === 'relu' ? { kind: 'relu' } : kind === 'lrelu' ? { kind: 'lrelu', alpha: LRELU_SLOPE } : kind === 'tanh' ? { kind: 'tanh' } : undefined;
}

function runLayers(net: Net, layers: readonly Layer[], x: tf.Tensor, pending: StatUpdate[] | null): tf.Tensor {
  let h = x;
  // A linear or conv layer's bias, when a BatchNorm follows: added inside it (the same sums; one pass fewer there).
  let bias: tf.Tensor | undefined;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    const next = layers[i + 1]?.kind;
    switch (l.kind) {
      case 'linear':
      case 'conv':
      case 'convT': {
        const w = l.kind !== 'convT' && l.sn ? spectralWeight(l.w, l.sn, pending) : l.w;
        const y = l.kind === 'linear' ? tf.matMul(h as tf.Tensor2D, w as tf.Tensor2D) : l.kind === 'conv' ? conv4s2(h as tf.Tensor4D, w as tf.Tensor4D) : convT4s2(h as tf.Tensor4D, w as tf.Tensor4D);
        const act = activationOf(next);
        if (next === 'bn') {
          h = y;
          bias = l.b;
        } else if (act && fusesBiasActivation()) {
          // Bias add → activation as one op. An observer is shown the activation's input, the same float32 add.
          if (observer && act.kind !== 'tanh') observer(net, tf.add(y, l.b));
          h = biasActivation(y, l.b, act);
          i++;
        } else {
          h = tf.add(y, l.b);
        }
        break;
      }
      case 'bn': {
        // BatchNorm → activation as one op where the backend can. The fused op never materialises the activation's
        // input, so an observer is shown the same BatchNorm computed without the activation (same kernels, so the
        // same values the fused op's mask is taken from).
        const act = fusesActivation() && (next === 'relu' || next === 'lrelu') ? activationOf(next) : undefined;
        if (act && observer) {
          const seen = batchNormTrain(h, l.gamma, l.beta, BN_EPS, { bias });
          disposeStats(seen.stats);
          observer(net, seen.y);
        }
        h = batchNorm(h, l, pending, { act, bias });
        bias = undefined;
        if (act) i++;
        break;
      }
      case 'relu':
        observer?.(net, h);
        h = tf.relu(h);
        break;
      case 'lrelu':
        observer?.(net, h);
        h = tf.leakyRelu(h, LRELU_SLOPE);
        break;
      case 'tanh':
        h = tf.tanh(h);
        break;
      case 'reshape':
        h = tf.reshape(h, [h.shape[0], ...l.shape]);
        break;
      case 'flatten':
        h = tf.reshape(h, [h.shape[0], -1]);
        break;
    }
  }
  return h;
}

function batchNorm(x: tf.Tensor, l: Extract<Layer, { kind: 'bn' }>, pending: StatUpdate[] | null, opts: BatchNormOptions): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  if (n < 2) {
    throw new Error(`${l.name}: batch norm in training mode needs more than 1 value per channel (got batch ${x.shape[0]})`);
  }
  // Normalized with the biased variance, as PyTorch does; its running variance is the unbiased one.
  const { y, stats } = batchNormTrain(x, l.gamma, l.beta, BN_EPS, opts);
  try {
    if (pending) pending.push(...runningStats(l, stats, n, pending));
  } finally {
    disposeStats(stats);
  }
  return y;
}

/** BatchNorm's running-statistics updates (momentum 0.1, unbiased variance) after one pass, as kept tensors. */
function runningStats(l: Extract<Layer, { kind: 'bn' }>, stats: BatchStats, n: number, pending: readonly StatUpdate[]): StatUpdate[] {
  // Chain on an update still pending from an earlier pass in the same step (D sees real then fake), so two
  // passes compose exactly like PyTorch's two in-place updates.
  const base = (t: tf.Variable): tf.Tensor => pending.findLast((u) => u.target === t)?.value ?? t;
  const next = runningUpdate(stats, { mean: base(l.mean), variance: base(l.var) }, n, BN_MOMENTUM);
  return [{ target: l.mean, value: tf.keep(next.mean) }, { target: l.var, value: tf.keep(next.variance) }];
}

/** Writes pending running stats (or just frees them when `apply` is false). */
export function flushStats(pending: StatUpdate[], apply: boolean): void {
  for (const u of pending) {
    if (apply) u.target.assign(u.value);
    u.value.dispose();
  }
  pending.length = 0;
}
