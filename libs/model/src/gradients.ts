/**
 * Fallback gradient definitions for the (few) kernels the GAN's forward passes and losses use, for processes that
 * never call @gan/backend's ensureGradients.
 *
 * tfjs-core's own gradients (all of them, into the one global registry) are registered by @gan/backend's
 * ensureGradients, which initBackend calls: every program that trains (apps, trainer, workers, bench, e2e tests)
 * does so before its first step, and it replaces whatever is registered here, so these definitions are never used
 * there. None of them is one the product needs over tfjs-core's (the faster conv weight gradient is ./conv's
 * tf.customGrad, not a registered gradient; BatchNorm is built from the ops below). They remain only because this
 * lib may not depend on @gan/backend (eslint's module boundaries allow scope:model only scope:model) and its unit
 * tests run on bare tfjs-core + cpu without initBackend; Node cannot import tfjs-core's
 * dist/register_all_gradients.js by itself (extension-less ESM imports). We only register a gradient for a kernel
 * that has none, so tfjs-core's own set wins in either order.
 *
 * Every gradient here is exercised by the finite-difference tests in gradients.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';

type Attrs = Record<string, unknown>;
type GradFn = (dy: tf.Tensor, saved: tf.Tensor[], attrs: Attrs) => Record<string, () => tf.Tensor>;

/** Sums `dy` over the axes that broadcasting added or stretched, so the result has `shape` (NumPy rules). */
function reduceTo(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes: number[] = [];
  const off = dy.rank - shape.length;
  for (let i = 0; i < dy.rank; i++) {
    const s = i - off >= 0 ? shape[i - off] : 1;
    if (i < off || (s === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  const r = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(r, shape);
}

/** dy of a reduction, broadcast back to the input's shape (times `scale`). */
function unreduce(dy: tf.Tensor, x: tf.Tensor, axisAttr: unknown, scale: (n: number) => number): tf.Tensor {
  const axes = tf.util.parseAxisParam(axisAttr as number | number[], x.shape);
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  return tf.mul(tf.reshape(dy, keep), tf.fill(x.shape, scale(n)));
}

const grads: Record<string, { save?: string[]; saveOut?: boolean; fn: GradFn }> = {
  Add: { save: ['a', 'b'], fn: (dy, [a, b]) => ({ a: () => reduceTo(dy, a.shape), b: () => reduceTo(dy, b.shape) }) },
  Sub: {
    save: ['a', 'b'],
    fn: (dy, [a, b]) => ({ a: () => reduceTo(dy, a.shape), b: () => reduceTo(tf.neg(dy), b.shape) }),
  },
  Multiply: {
    save: ['a', 'b'],
    fn: (dy, [a, b]) => ({
      a: () => reduceTo(tf.mul(dy, tf.cast(b, 'float32')), a.shape),
      b: () => reduceTo(tf.mul(dy, tf.cast(a, 'float32')), b.shape),
    }),
  },
  SquaredDifference: {
    save: ['a', 'b'],
    fn: (dy, [a, b]) => {
      const d = () => tf.mul(dy, tf.mul(tf.scalar(2), tf.sub(a, b)));
      return { a: () => reduceTo(d(), a.shape), b: () => reduceTo(tf.neg(d()), b.shape) };
    },
  },
  BatchMatMul: {
    save: ['a', 'b'],
    fn: (dy, [a, b], attrs) => {
      const ta = Boolean(attrs.transposeA);
      const tb = Boolean(attrs.transposeB);
      if (a.rank !== b.rank || a.shape.slice(0, -2).join() !== b.shape.slice(0, -2).join()) {
        throw new Error(`model gradients: BatchMatMul with broadcast batch dims ${a.shape} x ${b.shape} unsupported`);
      }
      // y = op(a)·op(b); the four transpose cases follow from d(y)=d(op a)·op b + op a·d(op b).
      if (!ta && !tb) return { a: () => tf.matMul(dy, b, false, true), b: () => tf.matMul(a, dy, true, false) };
      if (!ta && tb) return { a: () => tf.matMul(dy, b, false, false), b: () => tf.matMul(dy, a, true, false) };
      if (ta && !tb) return { a: () => tf.matMul(b, dy, false, true), b: () => tf.matMul(a, dy, false, false) };
      return { a: () => tf.matMul(b, dy, true, true), b: () => tf.matMul(dy, a, true, true) };
    },
  },
  Mean: { save: ['x'], fn: (dy, [x], attrs) => ({ x: () => unreduce(dy, x, attrs.axis, (n) => 1 / n) }) },
  Sum: { save: ['x'], fn: (dy, [x], attrs) => ({ x: () => unreduce(dy, x, attrs.axis, () => 1) }) },
  Neg: { fn: (dy) => ({ x: () => tf.neg(dy) }) },
  Square: { save: ['x'], fn: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(tf.scalar(2), x)) }) },
  // d/dx x^(-1/2) = -1/2 · x^(-3/2) = -1/2 · rsqrt(x)^3
  Rsqrt: { save: ['x'], fn: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(tf.scalar(-0.5), tf.pow(tf.rsqrt(x), 3))) }) },
  Relu: { save: ['x'], fn: (dy, [x]) => ({ x: () => tf.mul(dy, tf.step(x)) }) },
  LeakyRelu: {
    save: ['x'],
    fn: (dy, [x], attrs) => ({
      x: () => tf.where(tf.greater(x, 0), dy, tf.mul(dy, tf.scalar(Number(attrs.alpha)))),
    }),
  },
  Tanh: { saveOut: true, fn: (dy, [y]) => ({ x: () => tf.mul(dy, tf.sub(tf.scalar(1), tf.square(y))) }) },
  Sigmoid: { saveOut: true, fn: (dy, [y]) => ({ x: () => tf.mul(dy, tf.mul(y, tf.sub(tf.scalar(1), y))) }) },
  Softplus: { save: ['x'], fn: (dy, [x]) => ({ x: () => tf.mul(dy, tf.sigmoid(x)) }) },
  Reshape: { save: ['x'], fn: (dy, [x]) => ({ x: () => tf.reshape(dy, x.shape) }) },
  Cast: { save: ['x'], fn: (dy, [x]) => ({ x: () => tf.cast(dy, x.dtype) }) },
  Identity: { fn: (dy) => ({ x: () => tf.cast(dy, 'float32') }) },
};

let done = false;

/** Registers our gradient for every kernel above that has none yet. Idempotent. */
export function ensureGradients(): void {
  if (done) return;
  done = true;
  for (const [kernelName, g] of Object.entries(grads)) {
    if (tf.getGradient(kernelName) != null) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: g.save,
      outputsToSave: g.saveOut ? [true] : undefined,
      gradFunc: (dy, saved, attrs) => g.fn(dy as tf.Tensor, saved, attrs as unknown as Attrs),
    });
  }
}
