// On webgpu (where an adapter exists; skipped otherwise) @gan/backend's loss kernels give what the op form gives on
// cpu: the BCE from logits and its gradient for the targets a GAN uses (0, a smoothed 0.9, 1), over logits that reach
// both of softplus's cut-offs, and the mean sigmoid score.
// Run: node tools/run-tests.mjs libs/model losses
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasLossKernels, initBackend } from '@gan/backend';
import { tf } from './tf';
import { bceWithLogits, meanScore } from './losses';
import { lcgArray } from './test-helpers';

/** Logits [n, 1]: mostly in [−6, 6], with a few beyond ±20 (softplus's linear and exponential ends). */
function logits(n: number, seed: number): Float32Array {
  const v = lcgArray(n, seed, -6, 6);
  v[0] = 25;
  v[1] = -25;
  v[2] = 0;
  return v;
}

async function everything(values: Float32Array, target: number): Promise<Float32Array[]> {
  const x = tf.tensor2d(values, [values.length, 1]);
  const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => tf.mul(bceWithLogits(l, target), tf.scalar(3)))(x);
  const score = meanScore('non-saturating', x);
  const out = [(await value.data()) as Float32Array, (await grad.data()) as Float32Array, (await score.data()) as Float32Array];
  assert.deepEqual([value.shape, score.shape], [[], []], 'scalars');
  tf.dispose([x, value, grad, score]);
  return out;
}

test('webgpu: the BCE kernels and the mean score give what the op form gives on cpu', { timeout: 300_000 }, async (t) => {
  await initBackend('cpu');
  const cases = [
    { n: 64, target: 1 },
    { n: 37, target: 0 },
    { n: 300, target: 0.9 },
  ];
  const want: Float32Array[][] = [];
  for (const [i, c] of cases.entries()) want.push(await everything(logits(c.n, i + 1), c.target));
  try {
    await initBackend('webgpu');
  } catch (e) {
    return t.skip(`no webgpu here: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    assert.ok(hasLossKernels('webgpu'), 'webgpu has the loss kernels');
    for (const [i, c] of cases.entries()) {
      const got = await everything(logits(c.n, i + 1), c.target);
      ['3·loss', 'gradient', 'mean score'].forEach((what, k) => {
        const scale = Math.max(...Array.from(want[i][k], Math.abs));
        for (let j = 0; j < want[i][k].length; j++) {
          const e = Math.abs(got[k][j] - want[i][k][j]) / scale;
          assert.ok(e < 1e-5, `n ${c.n}, t ${c.target}, ${what} [${j}]: webgpu ${got[k][j]}, cpu ${want[i][k][j]}`);
        }
      });
    }
  } finally {
    await initBackend('cpu');
  }
});
