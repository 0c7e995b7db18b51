// On webgpu (where an adapter exists; skipped otherwise) the bias + activation kernels give what tf.add and tfjs's
// own activation give on cpu: the output and the gradients of x and the bias, for ReLU, LeakyReLU and tanh, on the
// shapes the DCGAN and the MLP use them on (channels last, C = 3 as G's image output, C not a multiple of 4); and the
// second-order gradients a gradient penalty takes through them (WGAN-GP's double backward through D's LeakyReLU; not
// for tanh, whose tfjs gradient reads the saved output and so has no second order on cpu to compare with).
// Run: node tools/run-tests.mjs libs/model bias-activation
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '@gan/backend';
import { tf } from './tf';
import { biasActivation, fusesBiasActivation, type Activation } from './bias-activation';

async function everything(shape: number[], act: Activation, seed: number): Promise<Record<string, Float32Array>> {
  const c = shape.at(-1)!;
  const x = tf.randomNormal(shape, 0, 2, 'float32', seed);
  const bias = tf.randomNormal([c], 0, 1, 'float32', seed + 1);
  const w = tf.randomNormal(shape, 0, 1, 'float32', seed + 2);
  const f = (a: tf.Tensor, b: tf.Tensor) => {
    if (fusesBiasActivation()) return biasActivation(a, b, act);
    const z = tf.add(a, b);
    return act.kind === 'relu' ? tf.relu(z) : act.kind === 'lrelu' ? tf.leakyRelu(z, act.alpha) : tf.tanh(z);
  };
  const y = f(x, bias);
  const [dx, dbias] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), w)))([x, bias]);
  // A penalty on the input gradient, differentiated in the weights of the sum, the input and the bias.
  const [pw, px, pb] =
    act.kind === 'tanh'
      ? [tf.zeros([1]), tf.zeros([1]), tf.zeros([1])]
      : tf.grads((ww: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
          const gx = tf.grad((aa: tf.Tensor) => tf.sum(tf.mul(f(aa, b), ww)))(a);
          return tf.sum(tf.square(gx));
        })([w, x, bias]);
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries({ y, dx, dbias, pw, px, pb })) out[k] = (await t.data()) as Float32Array;
  tf.dispose([x, bias, w, y, dx, dbias, pw, px, pb]);
  return out;
}

test('webgpu: the bias + activation kernels give what tf.add and the activation give on cpu', { timeout: 300_000 }, async (t) => {
  await initBackend('cpu');
  const cases: { shape: number[]; act: Activation }[] = [
    { shape: [4, 8, 8, 32], act: { kind: 'lrelu', alpha: 0.2 } },
    { shape: [16, 20], act: { kind: 'relu' } },
    { shape: [2, 6, 6, 3], act: { kind: 'tanh' } },
  ];
  const want: Record<string, Float32Array>[] = [];
  for (const [i, c] of cases.entries()) want.push(await everything(c.shape, c.act, 10 * i + 1));
  try {
    await initBackend('webgpu');
  } catch (e) {
    return t.skip(`no webgpu here: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    assert.ok(fusesBiasActivation(), 'webgpu has the kernels');
    for (const [i, c] of cases.entries()) {
      const got = await everything(c.shape, c.act, 10 * i + 1);
      for (const k of ['y', 'dx', 'dbias', 'pw', 'px', 'pb']) {
        const scale = Math.max(1, ...Array.from(want[i][k], Math.abs));
        let e = 0;
        for (let j = 0; j < want[i][k].length; j++) e = Math.max(e, Math.abs(got[k][j] - want[i][k][j]) / scale);
        assert.ok(e < 1e-5, `${c.act.kind} [${c.shape}] ${k}: max error ${e} relative to the largest value`);
      }
    }
  } finally {
    await initBackend('cpu');
  }
});
