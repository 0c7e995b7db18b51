/**
 * The wgan-gp gradient penalty (./gradient-penalty): its gradient with respect to D's weights, a gradient of a
 * gradient, against central finite differences of the penalty, on a tiny MLP and a tiny DCGAN critic (cpu backend,
 * float32: TF.js has no float64 dtype, so the quotients are float32 losses over two eps, as in gradients.test.ts).
 * ∇x D jumps wherever a LeakyReLU input changes sign, so each quotient is taken over an interval in which no
 * activation changes branch (recorded with observeActivations; the largest such eps of a few). The penalty term
 * alone is probed: analytic = ∇(wgan-gp loss) − ∇(wgan loss), numeric = the quotient of the
 * difference of the two losses. Its value is checked against a host computation of λ·mean(‖g_i‖ − 1)² with g_i
 * the input gradient, and the bad inputs are one-line errors. PyTorch's autograd checks the same maths in
 * test/torch-reference.test.ts (cpu and wasm).
 * Run: node tools/run-tests.mjs libs/model gradient-penalty
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  buildGan, dGradients, disposeGan, getFlatWeights, namedWeights, observeActivations, sampleNoise, setFlatWeights, type Gan, type ModelConfig,
} from './index';
import { forward } from './gan';
import { lcgArray, tinyDcgan, tinyMlp, useCpu } from './test-helpers';

before(useCpu);

/** Steps tried per probe, largest first: the first whose interval holds no activation kink is used. */
const EPSES = [1e-3, 3e-4, 1e-4, 3e-5];
/** |ΔL| rounding noise of float32 losses of order 10 (a few ulps), divided by 2·eps in the quotient. */
const LOSS_NOISE = 3e-6;
const B = 4;

function withCritic(cfg: ModelConfig, scale: number, body: (gan: Gan, real: tf.Tensor, z: tf.Tensor2D, eps: tf.Tensor1D) => void): void {
  const gan = buildGan(cfg, 5);
  // Weights well above init scale, so that ‖∇x D‖ is of order 1 and the penalty's gradient stands above float noise.
  for (const net of [gan.g, gan.d]) setFlatWeights(net, lcgArray(getFlatWeights(net).length, net.role === 'g' ? 31 : 32, -scale, scale));
  const shape = [B, ...gan.d.inputShape];
  const real = tf.tensor(lcgArray(shape.reduce((a, b) => a * b), 7), shape);
  const z = sampleNoise(B, cfg.nz, 8);
  const eps = tf.tensor1d([0.1, 0.35, 0.6, 0.9]);
  try {
    body(gan, real, z, eps);
  } finally {
    tf.dispose([real, z, eps]);
    disposeGan(gan);
  }
}

/**
 * `f`'s result with the branch (input > 0) of every ReLU / LeakyReLU it ran, as one string: the penalty is a smooth
 * function of the weights only between kinks (∇x D jumps where a unit changes branch), so a finite difference is
 * only taken over an interval whose ends take the same branches as the point itself.
 */
function branchesOf(f: () => number): { value: number; branches: string } {
  const parts: string[] = [];
  observeActivations((_net, x) => {
    parts.push(Array.from(x.dataSync(), (v) => (v > 0 ? '1' : '0')).join(''));
  });
  try {
    return { value: f(), branches: parts.join('|') };
  } finally {
    observeActivations(null);
  }
}

/** The penalty alone: wgan-gp's D loss and gradient minus wgan's (same forward passes, so the rest cancels). */
function penalty(gan: Gan, real: tf.Tensor, z: tf.Tensor2D, eps: tf.Tensor, gpWeight: number): { value: number; grads: Float32Array } {
  const gp = dGradients(gan, real, z, { loss: 'wgan-gp', gpEpsilon: eps, gpWeight });
  const plain = dGradients(gan, real, z, { loss: 'wgan' });
  return { value: gp.dLoss - plain.dLoss, grads: gp.grads.map((g, i) => g - plain.grads[i]) };
}

const cases: [string, ModelConfig, number][] = [
  ['MLP', tinyMlp({ nz: 3, mlpHidden: 6 }), 0.8],
  ['DCGAN (norm none)', tinyDcgan({ imageSize: 16, channels: 3, nz: 4, ngf: 3, ndf: 3, norm: 'none' }), 0.3],
];

describe('wgan-gp gradient penalty', () => {
  for (const [label, cfg, scale] of cases) {
    it(`${label}: ∂penalty/∂θ_D equals central finite differences in every D tensor`, () => {
      withCritic(cfg, scale, (gan, real, z, eps) => {
        const lambda = 10;
        const { grads } = penalty(gan, real, z, eps, lambda);
        const base = getFlatWeights(gan.d);
        const at = (i: number, v: number) => {
          const p = base.slice();
          p[i] = v;
          setFlatWeights(gan.d, p);
          return branchesOf(() => penalty(gan, real, z, eps, lambda).value);
        };
        const here = branchesOf(() => penalty(gan, real, z, eps, lambda).value).branches;
        const errors: string[] = [];
        let nontrivial = 0;
        let off = 0;
        for (const w of namedWeights(gan.d)) {
          // Each tensor's largest-|g| entry and two fixed ones; the largest eps whose interval crosses no kink.
          let best = off;
          for (let i = off; i < off + w.data.length; i++) if (Math.abs(grads[i]) > Math.abs(grads[best])) best = i;
          let checked = 0;
          for (const i of new Set([best, off, off + (w.data.length >> 1)])) {
            const g = grads[i];
            for (const e of EPSES) {
              const plus = at(i, base[i] + e);
              const minus = at(i, base[i] - e);
              if (plus.branches !== here || minus.branches !== here) continue;
              const fd = (plus.value - minus.value) / (2 * e);
              if (Math.abs(fd - g) > 2e-2 * Math.abs(g) + LOSS_NOISE / e) errors.push(`${w.name}[${i - off}]: analytic ${g} vs finite difference ${fd} (eps ${e})`);
              if (Math.abs(g) > 1e-1) nontrivial++;
              checked++;
              break;
            }
          }
          setFlatWeights(gan.d, base);
          if (checked === 0) errors.push(`${w.name}: every probe's interval crossed an activation kink`);
          off += w.data.length;
        }
        assert.deepEqual(errors, [], errors.join('; '));
        assert.ok(nontrivial >= 3, `only ${nontrivial} probes had a non-trivial penalty gradient`);
      });
    });

    it(`${label}: the penalty's value is λ·mean_i (‖∇x̂ D(x̂_i)‖ − 1)² on x̂ = ε·real + (1 − ε)·G(z)`, () => {
      withCritic(cfg, scale, (gan, real, z, eps) => {
        const { value } = penalty(gan, real, z, eps, 2.5);
        // Host-side: x̂ built in JS, each row's input gradient taken alone (batch of 1), the norm in float64.
        const fake = tf.tidy(() => forward(gan.g, z, null));
        const r = real.dataSync();
        const f = fake.dataSync();
        const e = eps.dataSync();
        const n = r.length / B;
        let sum = 0;
        for (let i = 0; i < B; i++) {
          const row = Float32Array.from({ length: n }, (_, k) => e[i] * r[i * n + k] + (1 - e[i]) * f[i * n + k]);
          const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(forward(gan.d, x, null)))(tf.tensor(row, [1, ...gan.d.inputShape])).dataSync());
          const norm = Math.sqrt(Array.from(g, Number).reduce((a, v) => a + v * v, 0));
          sum += (norm - 1) ** 2;
        }
        fake.dispose();
        const want = (2.5 * sum) / B;
        assert.ok(want > 1e-3, `a trivial penalty (${want}) checks nothing`);
        assert.ok(Math.abs(value - want) <= 1e-4 * Math.max(1, want), `penalty ${value}, host ${want}`);
      });
    });
  }

  it('λ = 0 is plain wgan; bad inputs are one-line errors', () => {
    withCritic(cases[0][1], cases[0][2], (gan, real, z, eps) => {
      const zero = dGradients(gan, real, z, { loss: 'wgan-gp', gpEpsilon: eps, gpWeight: 0 });
      const plain = dGradients(gan, real, z, { loss: 'wgan' });
      assert.equal(zero.dLoss, plain.dLoss);
      assert.deepEqual(zero.grads, plain.grads);
      const bad = (opts: Parameters<typeof dGradients>[3], re: RegExp, zz: tf.Tensor2D = z) => assert.throws(() => dGradients(gan, real, zz, opts), (err: Error) => {
        assert.match(err.message, re);
        assert.ok(!err.message.includes('\n'), err.message);
        return true;
      });
      bad({ loss: 'wgan-gp' }, /^dGradients: loss 'wgan-gp' needs gpEpsilon/);
      const three = tf.tensor1d([0.1, 0.2, 0.3]);
      const ints = tf.tensor1d([0, 1, 0, 1], 'int32');
      const z3 = sampleNoise(3, cases[0][1].nz, 1);
      try {
        bad({ loss: 'wgan-gp', gpEpsilon: three }, /^dGradients: gpEpsilon must be float32 \[4\].*got float32 \[3\]$/);
        bad({ loss: 'wgan-gp', gpEpsilon: ints }, /^dGradients: gpEpsilon must be float32 \[4\].*got int32 \[4\]$/);
        bad({ loss: 'wgan-gp', gpEpsilon: eps }, /z has 3 rows, real 4$/, z3);
      } finally {
        tf.dispose([three, ints, z3]);
      }
      bad({ loss: 'wgan-gp', gpEpsilon: eps, gpWeight: -1 }, /^dGradients: gpWeight must be a finite number ≥ 0, got -1$/);
      bad({ loss: 'wgan', gpEpsilon: eps }, /^dGradients: gpEpsilon and gpWeight apply to loss 'wgan-gp' only, not 'wgan'$/);
      bad({ loss: 'hinge', gpWeight: 10 }, /apply to loss 'wgan-gp' only, not 'hinge'$/);
    });
    const bn = buildGan(tinyDcgan({ imageSize: 16, channels: 1, nz: 4, ngf: 3, ndf: 3, norm: 'batch' }), 1);
    const real = tf.zeros([B, 16, 16, 1]);
    const z = sampleNoise(B, 4, 1);
    const eps = tf.fill([B], 0.5);
    try {
      assert.throws(() => dGradients(bn, real, z, { loss: 'wgan-gp', gpEpsilon: eps }), /^Error: dGradients: the wgan-gp gradient penalty is per sample and needs a critic without BatchNorm \(norm 'none'\)$/);
    } finally {
      tf.dispose([real, z, eps]);
      disposeGan(bn);
    }
  });
});
