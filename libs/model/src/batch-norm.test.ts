// batchNormTrain: the closed-form backward pass equals tfjs autodiff through the textbook forward ops (for x, γ and β,
// on a 4-D and a 2-D input), and its statistics are the batch mean and biased variance.
// Run: node tools/run-tests.mjs libs/model batch-norm
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '@gan/backend';
import { tf } from './tf';
import { batchNormTrain } from './batch-norm';

before(async () => {
  await initBackend('cpu');
});

/** y = γ·(x − mean)/√(var + ε) + β by plain ops, for autodiff to differentiate op by op. */
function textbook(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const centered = tf.sub(x, tf.mean(x, axes));
  return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(tf.mean(tf.square(centered), axes), eps))), gamma), beta);
}

function maxRelError(got: tf.Tensor, want: tf.Tensor): number {
  const g = got.dataSync();
  const w = want.dataSync();
  assert.equal(g.length, w.length);
  const scale = Math.max(...Array.from(w, Math.abs));
  let e = 0;
  for (let i = 0; i < g.length; i++) e = Math.max(e, Math.abs(g[i] - w[i]) / scale);
  return e;
}

for (const shape of [[3, 4, 5, 6], [7, 6]]) {
  test(`batchNormTrain's gradients equal autodiff of the textbook ops, x [${shape}]`, () => {
    tf.tidy(() => {
      const c = shape.at(-1)!;
      const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), 3), 0.5);
      const gamma = tf.randomNormal([c], 1, 0.3, 'float32', 2);
      const beta = tf.randomNormal([c], 0, 0.3, 'float32', 3);
      // A loss that weighs every output differently, so no gradient term cancels by symmetry.
      const w = tf.randomNormal(shape, 0, 1, 'float32', 4);
      const loss = (f: (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, g, b), w));
      const ours = tf.grads(loss((a, g, b) => batchNormTrain(a, g, b, 1e-5).y))([x, gamma, beta]);
      const want = tf.grads(loss((a, g, b) => textbook(a, g, b, 1e-5)))([x, gamma, beta]);
      ['x', 'gamma', 'beta'].forEach((name, i) => {
        const e = maxRelError(ours[i], want[i]);
        assert.ok(e < 1e-5, `d${name}: max relative error ${e}`);
      });
      const y = batchNormTrain(x, gamma, beta, 1e-5);
      assert.ok(maxRelError(y.y, textbook(x, gamma, beta, 1e-5)) < 1e-6, 'forward value');
      const axes = shape.slice(0, -1).map((_, i) => i);
      assert.ok(maxRelError(y.stats.mean, tf.mean(x, axes)) < 1e-6, 'batch mean');
      assert.ok(maxRelError(y.stats.variance, tf.moments(x, axes).variance) < 1e-6, 'biased batch variance');
      tf.dispose([y.stats.mean, y.stats.variance]);
    });
  });
}
