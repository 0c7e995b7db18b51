/**
 * Spectral normalization (Miyato et al. 2018) of D's conv and linear weights, with torch.nn.utils.spectral_norm's
 * semantics (dim 0, n_power_iterations 1, eps 1e-12): PyTorch views a weight as the matrix W [out, rest] and keeps two
 * buffers, u [out] and v [rest]; every forward in training mode does one power-iteration step
 *     v = normalize(Wᵀu), u = normalize(W v)        (normalize(x) = x / max(‖x‖₂, eps); u and v are constants for
 *     σ = uᵀ W v,  the layer uses W / σ              the backward pass, σ is not: the gradient flows through it)
 * and stores the new u and v. So D's u moves once per D forward: twice in a step's D phase (real, then fake) and
 * once in its G phase (twice with feature matching, whose passes stop before D's last linear layer, so that layer's
 * vectors move only in the D phase), as PyTorch's do in the reference step (test/torch/reference_step.py).
 * Our weights are stored transposed ([in, out] linear, [4,4,in,out] conv), so the same W is reshape(w, [-1, out])ᵀ:
 * u is in PyTorch's order and v in ours ((kh,kw,in) for a conv, D's flattened (h,w,c) features for its last linear);
 * torch-layout.ts permutes v on export. u and v depend only on the weights, which are identical on every replica,
 * so every rank computes the same vectors; they live in the net's buffers (checkpointed, broadcast with BatchNorm's
 * running statistics). Not a runnable file; tested in spectral-norm.test.ts and against PyTorch in
 * test/torch-reference.test.ts.
 */
import { tf } from './tf';
import type { Rng } from './rng';

/** torch.nn.utils.spectral_norm's eps. */
const EPS = 1e-12;

/** A layer's power-iteration vectors (buffers of its net). */
export interface SpectralVectors {
  u: tf.Variable;
  v: tf.Variable;
}

/** A pending buffer write (gan.ts's StatUpdate). */
interface PendingWrite {
  target: tf.Variable;
  value: tf.Tensor;
}

/**
 * PyTorch's initial u and v: N(0, 1) deviates normalized to unit length (here in float64, then rounded), drawn from
 * the run seed's spectral stream, u then v, layer after layer: the same on every rank.
 */
export function initialVectors(rng: Rng, out: number, rest: number): { u: Float32Array; v: Float32Array } {
  const unit = (n: number): Float32Array => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.normal();
    let sq = 0;
    for (let i = 0; i < n; i++) sq += x[i] * x[i];
    const norm = Math.max(Math.sqrt(sq), EPS);
    return Float32Array.from(x, (e) => e / norm);
  };
  const u = unit(out);
  return { u, v: unit(rest) };
}

/** Identity whose gradient is zero: u and v are constants for the backward pass, as under PyTorch's no_grad. */
const constant = tf.customGrad((...args) => ({ value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }));

function normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.maximum(tf.norm(x), tf.scalar(EPS)));
}

/**
 * `w / σ(w)` after one power-iteration step from the layer's current u (or the one a pass earlier in this step left
 * pending). With `pending` the new u and v are appended as kept tensors for the caller to assign once the step
 * succeeds; with null they are computed and dropped (diagnostics that must not move the buffers). Call inside tidy.
 */
export function spectralWeight(w: tf.Tensor, sn: SpectralVectors, pending: PendingWrite[] | null): tf.Tensor {
  const out = w.shape[w.rank - 1];
  // [rest, out]: PyTorch's W transposed (rows in our layout's order, which only permutes v).
  const wt = tf.reshape(w, [-1, out]) as tf.Tensor2D;
  const current = (t: tf.Variable): tf.Tensor => pending?.findLast((p) => p.target === t)?.value ?? t;
  const u0 = tf.reshape(current(sn.u), [out, 1]) as tf.Tensor2D;
  const v = constant(normalize(tf.reshape(tf.matMul(wt, u0), [-1]))) as tf.Tensor1D;
  const wv = tf.reshape(tf.matMul(tf.reshape(v, [1, -1]) as tf.Tensor2D, wt), [-1]);
  const u = constant(normalize(wv)) as tf.Tensor1D;
  if (pending) pending.push({ target: sn.u, value: tf.keep(u) }, { target: sn.v, value: tf.keep(v) });
  // σ = uᵀ (W v): W v is differentiable (v is a constant), u is not, so the gradient reaches W through σ only so.
  const sigma = tf.sum(tf.mul(u, wv));
  return tf.div(w, sigma);
}
