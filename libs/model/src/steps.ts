/**
 * One data-parallel GAN step split into pure pieces: gradient computations that return plain Float32Arrays (the
 * all-reduce payload) and numbers, plus noise sampling and sample generation. No tensor escapes these functions.
 * Not a runnable file.
 */
import { readInto, readIntoSync } from '@gan/backend';
import { tf } from './tf';
import { assertAlive, features, flushStats, forward, type Gan, type Net, type StatUpdate } from './gan';
import { buffersAfter, ownedData, ownedDataAsync, paramCount } from './flat';
import { Rng, STREAM } from './rng';
import { checkLoss, dLoss, gLoss, isBceLoss, meanScore, type GanLoss } from './losses';
import { gradientPenalty, penaltyInputs } from './gradient-penalty';

function checkInput(t: tf.Tensor, net: Net, what: string, fn: string): void {
  if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${what} must be a tf.Tensor`);
  const want = net.inputShape;
  if (t.rank !== want.length + 1 || want.some((d, i) => t.shape[i + 1] !== d)) {
    throw new Error(`${fn}: ${what} must have shape [B,${want.join(',')}], got [${t.shape.join(',')}]`);
  }
  if (t.shape[0] < 1) throw new Error(`${fn}: ${what} has an empty batch`);
  if (t.dtype !== 'float32') throw new Error(`${fn}: ${what} must be float32, got ${t.dtype}`);
}

/**
 * variableGrads' result in the net's flat order (zeros for a variable the loss does not reach), then `extra`
 * scalars: one tensor [paramCount + extra.length], so a phase reads its gradient and its numbers back in one
 * transfer (one read-back per phase on GPU backends).
 */
function packGrads(net: Net, grads: tf.NamedTensorMap, extra: tf.Tensor[], tail: tf.Tensor1D[] = []): tf.Tensor1D {
  const parts = net.params.map((p) => {
    const g = grads[p.variable.name];
    return g ? tf.reshape(g, [-1]) : tf.zeros([p.variable.size]);
  });
  return tf.concat([...parts, ...extra.map((t) => tf.reshape(t, [1])), ...tail]) as tf.Tensor1D;
}

/**
 * A host array that a phase's read-back reuses from step to step instead of making a new one (`values` grows when
 * a read needs more): see DGradOptions.readBuffer. Keep one per phase.
 */
export interface ReadBuffer {
  values: Float32Array;
}

/** An empty ReadBuffer (its first read sizes it). */
export function readBuffer(): ReadBuffer {
  return { values: new Float32Array(0) };
}

function into(t: tf.Tensor, rb: ReadBuffer): Float32Array {
  if (rb.values.length < t.size) rb.values = new Float32Array(t.size);
  return rb.values;
}

/**
 * Reads a packed phase result: synchronously (cpu, wasm) or, with `async`, without blocking (what webgpu needs);
 * into `rb`'s array when given one (the result is then a view of it), else into a new array.
 */
function readPacked(t: tf.Tensor, async: false, rb?: ReadBuffer): Float32Array;
function readPacked(t: tf.Tensor, async: true, rb?: ReadBuffer): Promise<Float32Array>;
function readPacked(t: tf.Tensor, async: boolean, rb?: ReadBuffer): Float32Array | Promise<Float32Array> {
  if (!async) {
    try {
      if (!rb) return ownedData(t);
      const dest = into(t, rb);
      readIntoSync(t, dest);
      return dest.subarray(0, t.size);
    } finally {
      t.dispose();
    }
  }
  if (!rb) return ownedDataAsync(t).finally(() => t.dispose());
  const dest = into(t, rb);
  return readInto(t, dest).then(() => dest.subarray(0, t.size)).finally(() => t.dispose());
}

/** The packed values split: the gradient (a view, owned by the caller) and the scalars after it. */
function unpack(v: Float32Array, n: number): { grads: Float32Array; scalars: Float32Array } {
  return { grads: v.subarray(0, n), scalars: v.subarray(n) };
}

/** Runs `body` in a tidy; applies the BN running-stat updates it queued only if it succeeded. */
function withStats<T>(body: (pending: StatUpdate[]) => T): T {
  const pending: StatUpdate[] = [];
  let ok = false;
  try {
    // The result holds only numbers and Float32Arrays; tidy must not see it: tf.tidy walks whatever its callback
    // returns looking for tensors, index by index through a typed array (seconds for the document's 15.5 M values).
    let r!: T;
    tf.tidy(() => {
      r = body(pending);
    });
    ok = true;
    return r;
  } finally {
    flushStats(pending, ok);
  }
}

/** Result of a discriminator gradient computation. */
export interface DGradResult {
  /** ∂(dLoss)/∂θ_D in D's flat order, length paramCount(gan.d). */
  grads: Float32Array;
  /** D's loss (see ./losses), e.g. BCE(D(real), realLabel) + BCE(D(G(z)), 0). */
  dLoss: number;
  /** Mean D output on the real batch: σ(logit) for the BCE losses, the raw score for hinge and wgan. */
  dReal: number;
  /** Mean D output on the fake batch, as dReal. */
  dFake: number;
}

/**
 * Discriminator gradients for one local batch, as in pytorch/examples dcgan: fakes = G(z) detached (no gradient
 * to G, and G's running stats untouched), then two separate D passes (real, then fake), each updating D's BN
 * running stats. Weights are not changed. `real`: [B,H,W,C] in [-1,1] (dcgan) or [B,dataDim] (mlp);
 * `z`: [B',nz]. The caller owns and disposes both. `loss` (default 'non-saturating') picks D's objective
 * (./losses); `realLabel` (default 1; e.g. 0.9 for one-sided smoothing) is the target for real samples of the
 * BCE objectives only.
 */
export function dGradients(gan: Gan, real: tf.Tensor, z: tf.Tensor2D, opts: DGradOptions = {}): DGradResult {
  return unpackD(readPacked(dGradientsPacked(gan, real, z, opts, 'dGradients'), false, opts.readBuffer), gan);
}

/** dGradients without a synchronous device read: the form GPU backends (webgpu) need. Same result. */
export async function dGradientsAsync(gan: Gan, real: tf.Tensor, z: tf.Tensor2D, opts: DGradOptions = {}): Promise<DGradResult> {
  return unpackD(await readPacked(dGradientsPacked(gan, real, z, opts, 'dGradientsAsync'), true, opts.readBuffer), gan);
}

export interface DGradOptions {
  realLabel?: number;
  loss?: GanLoss;
  /** 'wgan-gp' only: λ of the gradient penalty (./gradient-penalty; default 10). */
  gpWeight?: number;
  /** 'wgan-gp' only (and required there): ε, one interpolation weight per real row, float32 [B]. */
  gpEpsilon?: tf.Tensor;
  /**
   * Read the result into this buffer's array instead of a new one: `grads` is then a view of it, valid until the
   * buffer is read into again. The trainer keeps one per phase for a run: a new array of the gradient's size every
   * step costs its page faults (~160-300 ms a step for the document's DCGAN on a 2-vCPU VM; see @gan/backend
   * read-into).
   */
  readBuffer?: ReadBuffer;
}

function unpackD(v: Float32Array, gan: Gan): DGradResult {
  const { grads, scalars } = unpack(v, paramCount(gan.d));
  return { grads, dLoss: scalars[0], dReal: scalars[1], dFake: scalars[2] };
}

/** D's phase on the device: a kept tensor [paramCount(d) + 3] = gradient, dLoss, dReal, dFake. */
function dGradientsPacked(gan: Gan, real: tf.Tensor, z: tf.Tensor2D, opts: DGradOptions, fn: string): tf.Tensor1D {
  assertAlive(gan.d, fn);
  checkInput(real, gan.d, 'real', fn);
  checkInput(z, gan.g, 'z', fn);
  const loss = opts.loss ?? 'non-saturating';
  checkLoss(loss, fn);
  const realLabel = opts.realLabel ?? 1;
  if (!Number.isFinite(realLabel) || realLabel < 0 || realLabel > 1) {
    throw new Error(`${fn}: realLabel must be in [0,1], got ${realLabel}`);
  }
  if (realLabel !== 1 && !isBceLoss(loss)) throw new Error(`${fn}: a real label (label smoothing) applies to the BCE losses only, not '${loss}'`);
  if (loss !== 'wgan-gp' && (opts.gpEpsilon !== undefined || opts.gpWeight !== undefined)) {
    throw new Error(`${fn}: gpEpsilon and gpWeight apply to loss 'wgan-gp' only, not '${loss}'`);
  }
  const gp = loss === 'wgan-gp' ? penaltyInputs(gan, real, z.shape[0], opts.gpEpsilon, opts.gpWeight, fn) : null;
  const vars = gan.d.params.map((p) => p.variable);
  return withStats((pending) => {
    // Outside variableGrads, so nothing about G is recorded: the fakes are detached.
    const fake = forward(gan.g, z, null);
    let scores: tf.Tensor[] = [];
    const nReal = real.shape[0];
    const { value, grads } = tf.variableGrads(() => {
      // Two passes as in the PyTorch example, where BatchNorm must see the real and the fake batch apart (and spectral
      // norm does a power-iteration step per pass). A D without buffers treats rows independently, so one pass over
      // both batches is the same function with half the kernels (the MLP step's cost is mostly per-kernel overhead).
      const oneBatch = gan.d.buffers.length === 0;
      const both = oneBatch ? forward(gan.d, tf.concat([real, fake]), pending) : null;
      const lr = both ? tf.slice(both, 0, nReal) : forward(gan.d, real, pending);
      const lf = both ? tf.slice(both, nReal) : forward(gan.d, fake, pending);
      scores = [tf.keep(meanScore(loss, lr)), tf.keep(meanScore(loss, lf))];
      const critic = dLoss(loss, lr, lf, realLabel);
      return gp ? (tf.add(critic, gradientPenalty(gan.d, real, fake, gp)) as tf.Scalar) : critic;
    }, vars);
    const packed = tf.keep(packGrads(gan.d, grads, [value, ...scores]));
    tf.dispose(scores);
    return packed;
  });
}

/** Result of a generator gradient computation. */
export interface GGradResult {
  /** ∂(gLoss)/∂θ_G in G's flat order, length paramCount(gan.g). */
  grads: Float32Array;
  /** The loss G minimizes (negative for 'minimax'; any sign for hinge and wgan). */
  gLoss: number;
}

/**
 * Generator gradients: a fresh G(z) through D, gradient over G's variables only (D's weights are never
 * changed). Both networks run BN in training mode and update their running stats, as the PyTorch example's G
 * step does for D. `z`: [B,nz], owned by the caller. G minimises `loss`'s G objective, or with `featureMatching`
 * (the real batch, owned by the caller) Salimans et al.'s feature matching: mean over features of
 * (mean_batch f(real) − mean_batch f(G(z)))², f = D's last hidden features, D(real) run first. The batch means are
 * this rank's (like BatchNorm without SyncBatchNorm), so N workers × b differ from 1 × N·b here.
 */
export function gGradients(gan: Gan, z: tf.Tensor2D, opts: GGradOptions = {}): GGradResult {
  const p = gGradientsPacked(gan, z, opts, 'gGradients');
  return unpackG(readPacked(p.t, false, opts.readBuffer), gan, p.adopt);
}

/** gGradients without a synchronous device read: the form GPU backends (webgpu) need. Same result. */
export async function gGradientsAsync(gan: Gan, z: tf.Tensor2D, opts: GGradOptions = {}): Promise<GGradResult> {
  const p = gGradientsPacked(gan, z, opts, 'gGradientsAsync');
  return unpackG(await readPacked(p.t, true, opts.readBuffer), gan, p.adopt);
}

export interface GGradOptions {
  loss?: GanLoss;
  featureMatching?: tf.Tensor;
  /** As DGradOptions.readBuffer. */
  readBuffer?: ReadBuffer;
}

function unpackG(v: Float32Array, gan: Gan, adoptBuffers: (values: Float32Array) => void): GGradResult {
  const { grads, scalars } = unpack(v, paramCount(gan.g));
  adoptBuffers(scalars.subarray(1));
  return { grads, gLoss: scalars[0] };
}

/**
 * G's phase on the device: a kept tensor [paramCount(g) + 1 + buffers] = gradient, gLoss, then G's and D's buffers
 * as this phase leaves them (the last in a step to move them), and the function that makes those the nets' host
 * copies once read: so a GPU step needs no read-back beyond its two phases' (syncHostCopies finds them current).
 */
function gGradientsPacked(gan: Gan, z: tf.Tensor2D, opts: GGradOptions, fn: string): { t: tf.Tensor1D; adopt: (values: Float32Array) => void } {
  assertAlive(gan.g, fn);
  checkInput(z, gan.g, 'z', fn);
  const loss = opts.loss ?? 'non-saturating';
  checkLoss(loss, fn);
  const real = opts.featureMatching;
  if (real) checkInput(real, gan.d, 'featureMatching (the real batch)', fn);
  const vars = gan.g.params.map((p) => p.variable);
  return withStats((pending) => {
    const { value, grads } = tf.variableGrads(() => {
      const fake = forward(gan.g, z, pending);
      if (!real) return gLoss(loss, forward(gan.d, fake, pending));
      const fr = tf.mean(features(gan.d, real, pending), 0);
      const ff = tf.mean(features(gan.d, fake, pending), 0);
      return tf.mean(tf.square(tf.sub(fr, ff))) as tf.Scalar;
    }, vars);
    const buffers = buffersAfter([gan.g, gan.d], pending);
    return { t: tf.keep(packGrads(gan.g, grads, [value], buffers.parts)), adopt: buffers.adopt };
  });
}

/** Deterministic N(0,1) noise as a host array [batch·nz] (row-major [batch, nz]) from an integer seed. */
export function noiseData(batch: number, nz: number, seed: number): Float32Array {
  for (const [k, v] of [['batch', batch], ['nz', nz]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`sampleNoise: ${k} must be a positive integer, got ${v}`);
  }
  return new Rng(seed, STREAM.noise).fillNormal(new Float32Array(batch * nz), 0, 1);
}

/** Deterministic N(0,1) noise z: [batch, nz] from an integer seed (same seed → same bytes). Caller disposes. */
export function sampleNoise(batch: number, nz: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(noiseData(batch, nz, seed), [batch, nz]);
}

/**
 * G(z) as a host array ([B,H,W,C] in [-1,1] or [B,dataDim], row-major), BN in training mode with batch stats
 * (as the PyTorch example samples) without touching running stats. z: [B,nz] (B ≥ 2 when G has BN).
 */
export function generate(gan: Gan, z: tf.Tensor2D): Float32Array {
  return readPacked(generated(gan, z, 'generate'), false);
}

/** generate without a synchronous device read (webgpu). */
export function generateAsync(gan: Gan, z: tf.Tensor2D): Promise<Float32Array> {
  return readPacked(generated(gan, z, 'generateAsync'), true);
}

function generated(gan: Gan, z: tf.Tensor2D, fn: string): tf.Tensor {
  assertAlive(gan.g, fn);
  checkInput(z, gan.g, 'z', fn);
  return tf.tidy(() => forward(gan.g, z, null));
}

/**
 * D's logits for `x` ([B,H,W,C] in [-1,1] or [B,dataDim]) as a host array [B], BatchNorm in training mode with
 * x's batch statistics (as in a training step) without touching running stats. The caller owns `x`.
 */
export function discriminate(gan: Gan, x: tf.Tensor): Float32Array {
  assertAlive(gan.d, 'discriminate');
  checkInput(x, gan.d, 'x', 'discriminate');
  let out!: Float32Array;
  tf.tidy(() => {
    out = ownedData(tf.reshape(forward(gan.d, x, null), [-1]));
  });
  return out;
}
