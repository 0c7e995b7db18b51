/**
 * Sanity run: the MLP GAN on an 8-mode 2-D Gaussian ring for a few hundred steps keeps every loss and weight
 * finite, keeps D's outputs in (0,1), and moves G's samples out toward the ring. Run:
 * node tools/run-tests.mjs libs/model mlp-train
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  adamApply, buildGan, createAdam, dGradients, disposeGan, generate, getFlatWeights, gGradients, noiseData, sampleNoise,
} from './index';
import { lcgArray, useCpu } from './test-helpers';

before(useCpu);

const MODES = 8;
const RADIUS = 2;

function ringBatch(b: number, seed: number): tf.Tensor2D {
  const u = lcgArray(b, seed, 0, 1);
  const noise = noiseData(b, 2, seed);
  const data = new Float32Array(2 * b);
  for (let i = 0; i < b; i++) {
    const th = (2 * Math.PI * Math.floor(u[i] * MODES)) / MODES;
    data[2 * i] = RADIUS * Math.cos(th) + 0.05 * noise[2 * i];
    data[2 * i + 1] = RADIUS * Math.sin(th) + 0.05 * noise[2 * i + 1];
  }
  return tf.tensor2d(data, [b, 2]);
}

/** Mean distance of G's samples from the ring. */
function ringDistance(points: Float32Array): number {
  let s = 0;
  for (let i = 0; i < points.length; i += 2) s += Math.abs(Math.hypot(points[i], points[i + 1]) - RADIUS);
  return s / (points.length / 2);
}

describe('MLP GAN sanity', () => {
  it('trains 400 steps on a 2-D ring with finite losses and samples moving toward the data', () => {
    const cfg = { model: 'mlp', imageSize: 0, channels: 1, nz: 4, ngf: 1, ndf: 1, norm: 'none', mlpHidden: 32, dataDim: 2 } as const;
    const gan = buildGan(cfg, 1);
    const dOpt = createAdam(gan.d, { lr: 2e-3 });
    const gOpt = createAdam(gan.g, { lr: 2e-3 });
    const zEval = sampleNoise(256, 4, 12345);
    try {
      const before = ringDistance(generate(gan, zEval));
      for (let step = 0; step < 400; step++) {
        const real = ringBatch(64, step + 1);
        const z = sampleNoise(64, 4, 1_000_000 + step);
        try {
          const d = dGradients(gan, real, z);
          adamApply(dOpt, gan.d, d.grads);
          const g = gGradients(gan, z);
          adamApply(gOpt, gan.g, g.grads);
          for (const v of [d.dLoss, g.gLoss]) assert.ok(Number.isFinite(v), `step ${step}: loss ${v}`);
          assert.ok(d.dReal > 0 && d.dReal < 1 && d.dFake > 0 && d.dFake < 1, `step ${step}: D outputs`);
        } finally {
          real.dispose();
          z.dispose();
        }
      }
      assert.ok(getFlatWeights(gan.g).every(Number.isFinite) && getFlatWeights(gan.d).every(Number.isFinite));
      const after = ringDistance(generate(gan, zEval));
      assert.ok(after < 0.75 * before, `mean distance to the ring ${before.toFixed(3)} → ${after.toFixed(3)}`);
    } finally {
      zEval.dispose();
      disposeGan(gan);
    }
  });
});
