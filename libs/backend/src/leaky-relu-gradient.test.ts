// The registered LeakyRelu gradient gives tfjs-core's own results bit for bit (zeros, both signs, tiny and huge
// values) on the cpu and wasm backends, and is the one tf.grad uses. Run: node tools/run-tests.mjs libs/backend leaky-relu
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients, initBackend } from './index';
import { leakyReluGradConfig } from './leaky-relu-gradient';

before(async () => {
  await initBackend('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  await ensureGradients();
});

const X = Float32Array.from([0, -0, 1, -1, 1e-38, -1e-38, 3.5e38, -3.5e38, 0.2, -0.2, 7, -123.456]);
const DY = Float32Array.from([1, -2, 0.3, -0.7, 5e37, -5e37, 2, 2, -1e-30, 1e-30, 0, 9.75]);

/** tfjs-core's definition, as in its LeakyRelu_grad: where(x > 0, dy, dy · α). */
function tfjsCoreGrad(x: tf.Tensor, dy: tf.Tensor, alpha: number): tf.Tensor {
  return tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha));
}

for (const backend of ['cpu', 'wasm']) {
  test(`on ${backend}: equals tfjs-core's where(x > 0, dy, dy·α) bit for bit, through tf.grad too`, () => {
    tf.setBackend(backend);
    try {
      for (const alpha of [0.2, 0.01, 0]) {
        tf.tidy(() => {
          const x = tf.tensor1d(X);
          const dy = tf.tensor1d(DY);
          const want = tfjsCoreGrad(x, dy, alpha).dataSync();
          const direct = (leakyReluGradConfig.gradFunc(dy, [x], { alpha }) as { x: () => tf.Tensor }).x().dataSync();
          assert.deepEqual(new Uint32Array(direct.buffer), new Uint32Array(want.buffer), `direct, α ${alpha}`);
          const viaGrad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(t, alpha), dy)))(x).dataSync();
          assert.deepEqual(Array.from(viaGrad), Array.from(want), `tf.grad, α ${alpha}`);
        });
      }
    } finally {
      tf.setBackend('wasm');
    }
  });
}

test('it is the registered LeakyRelu gradient', () => {
  assert.equal(tf.getGradient('LeakyRelu'), leakyReluGradConfig);
});
