// batchNormTrain: the closed-form backward pass equals tfjs autodiff through the textbook forward ops (for x, γ and β,
// on a 4-D and a 2-D input), and its statistics are the batch mean and biased variance. On webgpu (where an adapter
// exists; skipped otherwise) @gan/backend's BatchNorm kernels give what the op form gives on cpu: output, the three
// gradients, the moments and both running statistics, alone and with the layer's bias before them and the ReLU or
// LeakyReLU after them inside.
// Run: node tools/run-tests.mjs libs/model batch-norm
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '@gan/backend';
import { tf } from './tf';
import { batchNormTrain, disposeStats, fusesActivation, runningUpdate, type BatchStats } from './batch-norm';
import type { Activation } from './bias-activation';

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
      assert.ok('mean' in y.stats, 'cpu has no BatchNorm kernels: the op form ran');
      assert.ok(maxRelError(y.stats.mean, tf.mean(x, axes)) < 1e-6, 'batch mean');
      assert.ok(maxRelError(y.stats.variance, tf.moments(x, axes).variance) < 1e-6, 'biased batch variance');
      disposeStats(y.stats);
    });
  });
}

/**
 * Everything batchNormTrain gives for one input, read to the host: y, dx/dγ/dβ (and d bias, with a bias) of a
 * weighted sum, the statistics. `act` runs inside batchNormTrain where it can, else as tfjs's own op after it.
 */
async function everything(shape: number[], seed: number, act?: Activation, withBias = false): Promise<Record<string, Float32Array>> {
  const c = shape.at(-1)!;
  const n = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), 3), 0.5);
  const gamma = tf.randomNormal([c], 1, 0.3, 'float32', seed + 1);
  const beta = tf.randomNormal([c], 0, 0.3, 'float32', seed + 2);
  const w = tf.randomNormal(shape, 0, 1, 'float32', seed + 3);
  const running = tf.randomUniform([c], 0.5, 1.5, 'float32', seed + 4);
  const runningVar = tf.randomUniform([c], 0.5, 1.5, 'float32', seed + 6);
  // A bias as large as the data's spread, so that x + bias − μ is not x − μ to rounding.
  const bias = tf.randomNormal([c], 0, 3, 'float32', seed + 5);
  const inside = act && fusesActivation();
  const bn = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, o?: tf.Tensor) => {
    const r = batchNormTrain(a, g, b, 1e-5, { act: inside ? act : undefined, bias: o });
    const y = !act || inside ? r.y : act.kind === 'relu' ? tf.relu(r.y) : act.kind === 'lrelu' ? tf.leakyRelu(r.y, act.alpha) : tf.tanh(r.y);
    return { y, stats: r.stats };
  };
  let stats!: BatchStats;
  const { value, grads } = tf.valueAndGrads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor, o?: tf.Tensor) => {
    const r = bn(a, g, b, o);
    stats = r.stats;
    return tf.sum(tf.mul(r.y, w));
  })(withBias ? [x, gamma, beta, bias] : [x, gamma, beta]);
  const y = tf.tidy(() => {
    const r = bn(x, gamma, beta, withBias ? bias : undefined);
    disposeStats(r.stats);
    return r.y;
  });
  const { mean, variance } = runningUpdate(stats, { mean: running, variance: runningVar }, n, 0.1);
  const out: Record<string, tf.Tensor> = { y, dx: grads[0], dgamma: grads[1], dbeta: grads[2], dbias: grads[3] ?? tf.zeros([1]), mean, variance, loss: value };
  const read: Record<string, Float32Array> = { kernels: new Float32Array(['table' in stats ? 1 : 0]), zeros: new Float32Array(1) };
  for (const [k, t] of Object.entries(out)) read[k] = (await t.data()) as Float32Array;
  read.zeros[0] = read.y.filter((v) => v === 0).length;
  disposeStats(stats);
  tf.dispose([x, gamma, beta, w, running, runningVar, bias, ...Object.values(out)]);
  return read;
}

test('webgpu: the BatchNorm kernels give what the op form gives on cpu (16 channels and not, rows not a multiple of 16, alone and with a bias and an activation inside)', { timeout: 300_000 }, async (t) => {
  // The DCGAN's uses: a conv's bias and an activation inside (G: ReLU, D: LeakyReLU); and BatchNorm alone.
  const acts: (Activation | undefined)[] = [undefined, { kind: 'relu' }, { kind: 'lrelu', alpha: 0.2 }];
  const shapes = [[3, 4, 5, 6], [7, 20], [4, 8, 8, 32]];
  const want: Record<string, Float32Array>[] = [];
  for (const act of acts) for (const [i, s] of shapes.entries()) want.push(await everything(s, 10 * i + 1, act, act != null));
  assert.ok(want[shapes.length].zeros[0] > 0 && want[0].zeros[0] === 0, 'ReLU zeroes some outputs: its gradient mask is tested');
  try {
    await initBackend('webgpu');
  } catch (e) {
    return t.skip(`no webgpu here: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    assert.ok(fusesActivation(), 'webgpu runs activations inside BatchNorm');
    let n = 0;
    for (const act of acts) {
      for (const [i, s] of shapes.entries()) {
        const got = await everything(s, 10 * i + 1, act, act != null);
        const w = want[n++];
        assert.equal(got.kernels[0], 1, 'webgpu ran the kernels');
        for (const k of ['y', 'dx', 'dgamma', 'dbeta', 'dbias', 'mean', 'variance', 'loss']) {
          const scale = Math.max(1, ...Array.from(w[k], Math.abs));
          let e = 0;
          for (let j = 0; j < w[k].length; j++) e = Math.max(e, Math.abs(got[k][j] - w[k][j]) / scale);
          assert.equal(got[k].length, w[k].length, `${k} [${s}] length`);
          assert.ok(e < 2e-5, `${act?.kind ?? 'no activation'}, ${k} [${s}]: max error ${e} relative to the largest value`);
        }
      }
    }
  } finally {
    await initBackend('cpu');
  }
});
