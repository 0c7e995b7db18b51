/**
 * One data-parallel GAN step split into pure pieces: gradient computations that return plain Float32Arrays (the
 * all-reduce payload) and numbers, plus noise sampling and sample generation. No tensor escapes these functions.
 * Not a runnable file.
 */
import { tf } from './tf';
import { assertAlive, features, flushStats, forward, type Gan, type Net, type StatUpdate } from './gan';
import { ownedData } from './flat';
import { Rng, STREAM } from './rng';
import { checkLoss, dLoss, gLoss, isBceLoss, meanScore, type GanLoss } from './losses';

function checkInput(t: tf.Tensor, net: Net, what: string, fn: string): void {
  if (!(t instanceof tf.Tensor)) throw new Error(`${fn}: ${what} must be a tf.Tensor`);
  const want = net.inputShape;
  if (t.rank !== want.length + 1 || want.some((d, i) => t.shape[i + 1] !== d)) {
    throw new Error(`${fn}: ${what} must have shape [B,${want.join(',')}], got [${t.shape.join(',')}]`);
  }
  if (t.shape[0] < 1) throw new Error(`${fn}: ${what} has an empty batch`);
  if (t.dtype !== 'float32') throw new Error(`${fn}: ${what} must be float32, got ${t.dtype}`);
}

/** Flattens variableGrads' result in the net's flat order (zeros for a variable the loss does not reach). */
function flatGrads(net: Net, grads: tf.NamedTensorMap): Float32Array {
  const parts = net.params.map((p) => {
    const g = grads[p.variable.name];
    return g ? tf.reshape(g, [-1]) : tf.zeros([p.variable.size]);
  });
  return ownedData(tf.concat(parts));
}

function scalarOf(t: tf.Tensor): number {
  return t.dataSync()[0];
}

/** Runs `body` in a tidy; applies the BN running-stat updates it queued only if it succeeded. */
function withStats<T extends tf.TensorContainer>(body: (pending: StatUpdate[]) => T): T {
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
export function dGradients(
  gan: Gan,
  real: tf.Tensor,
  z: tf.Tensor2D,
  opts: { realLabel?: number; loss?: GanLoss } = {},
): DGradResult {
  assertAlive(gan.d, 'dGradients');
  checkInput(real, gan.d, 'real', 'dGradients');
  checkInput(z, gan.g, 'z', 'dGradients');
  const loss = opts.loss ?? 'non-saturating';
  checkLoss(loss, 'dGradients');
  const realLabel = opts.realLabel ?? 1;
  if (!Number.isFinite(realLabel) || realLabel < 0 || realLabel > 1) {
    throw new Error(`dGradients: realLabel must be in [0,1], got ${realLabel}`);
  }
  if (realLabel !== 1 && !isBceLoss(loss)) throw new Error(`dGradients: a real label (label smoothing) applies to the BCE losses only, not '${loss}'`);
  const vars = gan.d.params.map((p) => p.variable);
  return withStats((pending) => {
    // Outside variableGrads, so nothing about G is recorded: the fakes are detached.
    const fake = forward(gan.g, z, null);
    let dReal = 0;
    let dFake = 0;
    const nReal = real.shape[0];
    const { value, grads } = tf.variableGrads(() => {
      // Two passes as in the PyTorch example, where BatchNorm must see the real and the fake batch apart. A D
      // without BatchNorm treats rows independently, so one pass over both batches is the same function with half
      // the kernels (the MLP step's cost is mostly per-kernel overhead).
      const oneBatch = gan.d.buffers.length === 0;
      const both = oneBatch ? forward(gan.d, tf.concat([real, fake]), pending) : null;
      const lr = both ? tf.slice(both, 0, nReal) : forward(gan.d, real, pending);
      const lf = both ? tf.slice(both, nReal) : forward(gan.d, fake, pending);
      dReal = scalarOf(meanScore(loss, lr));
      dFake = scalarOf(meanScore(loss, lf));
      return dLoss(loss, lr, lf, realLabel);
    }, vars);
    return { grads: flatGrads(gan.d, grads), dLoss: scalarOf(value), dReal, dFake };
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
export function gGradients(gan: Gan, z: tf.Tensor2D, opts: { loss?: GanLoss; featureMatching?: tf.Tensor } = {}): GGradResult {
  assertAlive(gan.g, 'gGradients');
  checkInput(z, gan.g, 'z', 'gGradients');
  const loss = opts.loss ?? 'non-saturating';
  checkLoss(loss, 'gGradients');
  const real = opts.featureMatching;
  if (real) checkInput(real, gan.d, 'featureMatching (the real batch)', 'gGradients');
  const vars = gan.g.params.map((p) => p.variable);
  return withStats((pending) => {
    const { value, grads } = tf.variableGrads(() => {
      const fake = forward(gan.g, z, pending);
      if (!real) return gLoss(loss, forward(gan.d, fake, pending));
      const fr = tf.mean(features(gan.d, real, pending), 0);
      const ff = tf.mean(features(gan.d, fake, pending), 0);
      return tf.mean(tf.square(tf.sub(fr, ff))) as tf.Scalar;
    }, vars);
    return { grads: flatGrads(gan.g, grads), gLoss: scalarOf(value) };
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
  assertAlive(gan.g, 'generate');
  checkInput(z, gan.g, 'z', 'generate');
  let out!: Float32Array;
  tf.tidy(() => {
    out = ownedData(forward(gan.g, z, null));
  });
  return out;
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
