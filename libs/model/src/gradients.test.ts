/**
 * Analytic gradients (dGradients / gGradients, i.e. tfjs-core's registered kernel gradients, the custom conv gradients
 * and BatchNorm's backward) against central finite differences of the returned losses, on a tiny MLP and tiny
 * DCGANs, float32 forward passes. For each weight tensor we check its entry with the largest |gradient| (every
 * layer is covered, biases included) to 2% relative plus the float32 rounding noise of the difference quotient.
 * The nets are piecewise linear (ReLU/LeakyReLU), and a bias shift moves every unit, so a step of 1e-2 crosses
 * kinks and biases the quotient by several %; we therefore try eps 1e-3 and 3e-4 and accept a probe if either
 * agrees (measured: the quotient converges to the analytic value as eps shrinks). A wrong gradient fails both.
 * Run: node tools/run-tests.mjs libs/model gradients
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  buildGan, dGradients, disposeGan, GAN_LOSSES, getFlatWeights, gGradients, namedWeights, sampleNoise, setFlatWeights,
  type Gan, type GanLoss, type ModelConfig, type Net,
} from './index';
import { setConvGradImpl } from './conv';
import { lcgArray, tinyDcgan, tinyMlp, useCpu } from './test-helpers';

before(useCpu);

const EPSES = [1e-3, 3e-4];
/** |ΔL| rounding noise of a float32 loss of order 1 (a few ulps), divided by 2·eps in the quotient. */
const LOSS_NOISE = 3e-7;

/** Indices (into the flat vector) of each tensor's largest-|g| entry. */
function probes(net: Net, grads: Float32Array): { name: string; i: number }[] {
  const out: { name: string; i: number }[] = [];
  let off = 0;
  for (const w of namedWeights(net)) {
    let best = off;
    for (let i = off; i < off + w.data.length; i++) if (Math.abs(grads[i]) > Math.abs(grads[best])) best = i;
    out.push({ name: w.name, i: best });
    off += w.data.length;
  }
  return out;
}

function checkFd(
  gan: Gan,
  net: Net,
  analytic: Float32Array,
  loss: () => number,
): void {
  const base = getFlatWeights(net);
  const errors: string[] = [];
  let checked = 0;
  for (const { name, i } of probes(net, analytic)) {
    const g = analytic[i];
    const fds: number[] = [];
    let ok = false;
    for (const eps of EPSES) {
      const w = base.slice();
      w[i] = base[i] + eps;
      setFlatWeights(net, w);
      const lp = loss();
      w[i] = base[i] - eps;
      setFlatWeights(net, w);
      const lm = loss();
      const fd = (lp - lm) / (2 * eps);
      fds.push(fd);
      if (Math.abs(fd - g) <= 2e-2 * Math.abs(g) + LOSS_NOISE / eps) ok = true;
    }
    if (Math.abs(g) > 1e-2) checked++;
    if (!ok) errors.push(`${name}[${i}]: analytic ${g} vs fd ${fds.join(', ')}`);
  }
  setFlatWeights(net, base);
  assert.deepEqual(errors, [], errors.join('; '));
  assert.ok(checked >= 3, `only ${checked} probes had a non-trivial gradient`);
  void gan;
}

function withGan(cfg: ModelConfig, scale: number, body: (gan: Gan, real: tf.Tensor, z: tf.Tensor2D) => void): void {
  const gan = buildGan(cfg, 3);
  // Larger-than-init weights so gradients stand well above float32 finite-difference noise.
  for (const net of [gan.g, gan.d]) {
    const n = getFlatWeights(net).length;
    setFlatWeights(net, lcgArray(n, net.role === 'g' ? 21 : 22, -scale, scale));
  }
  const B = 4;
  const shape = [B, ...gan.d.inputShape];
  const real = tf.tensor(lcgArray(shape.reduce((a, b) => a * b), 5), shape);
  const z = sampleNoise(B, cfg.nz, 6);
  try {
    body(gan, real, z);
  } finally {
    real.dispose();
    z.dispose();
    disposeGan(gan);
  }
}

const cases: [string, ModelConfig, number][] = [
  ['MLP', tinyMlp({ nz: 3, mlpHidden: 6 }), 1],
  ['DCGAN norm none', tinyDcgan({ imageSize: 16, channels: 1, nz: 4, ngf: 3, ndf: 3, norm: 'none' }), 0.3],
  ['DCGAN batch norm', tinyDcgan({ imageSize: 16, channels: 3, nz: 4, ngf: 3, ndf: 3, norm: 'batch' }), 0.3],
];

describe('gradients vs central finite differences', () => {
  for (const [label, cfg, scale] of cases) {
    it(`${label}: dGradients (realLabel 0.9)`, () => {
      withGan(cfg, scale, (gan, real, z) => {
        const r = dGradients(gan, real, z, { realLabel: 0.9 });
        checkFd(gan, gan.d, r.grads, () => dGradients(gan, real, z, { realLabel: 0.9 }).dLoss);
      });
    });
    for (const loss of ['hinge', 'wgan'] as GanLoss[]) {
      it(`${label}: dGradients (${loss})`, () => {
        withGan(cfg, scale, (gan, real, z) => {
          const r = dGradients(gan, real, z, { loss });
          checkFd(gan, gan.d, r.grads, () => dGradients(gan, real, z, { loss }).dLoss);
        });
      });
    }
    it(`${label}: gGradients (feature matching)`, () => {
      withGan(cfg, scale, (gan, real, z) => {
        // A mean over hundreds of squared feature differences is small: scaled (both sides alike) so that enough
        // probes stand above the check's triviality floor.
        const k = 1e3;
        const r = gGradients(gan, z, { featureMatching: real });
        checkFd(gan, gan.g, r.grads.map((v) => v * k), () => k * gGradients(gan, z, { featureMatching: real }).gLoss);
      });
    });
    for (const loss of GAN_LOSSES) {
      it(`${label}: gGradients (${loss})`, () => {
        withGan(cfg, scale, (gan, _real, z) => {
          const r = gGradients(gan, z, { loss });
          checkFd(gan, gan.g, r.grads, () => gGradients(gan, z, { loss }).gLoss);
        });
      });
    }
  }

  it('DCGAN: the portable conv weight gradient (used on wasm) passes too', () => {
    setConvGradImpl('portable');
    try {
      withGan(cases[2][1], 0.3, (gan, real, z) => {
        const r = gGradients(gan, z);
        checkFd(gan, gan.g, r.grads, () => gGradients(gan, z).gLoss);
        const d = dGradients(gan, real, z);
        checkFd(gan, gan.d, d.grads, () => dGradients(gan, real, z).dLoss);
      });
    } finally {
      setConvGradImpl('auto');
    }
  });
});
