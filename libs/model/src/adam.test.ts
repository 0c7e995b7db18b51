/**
 * Adam: matches a float64 evaluation of PyTorch's Adam formula over several steps, is all-or-nothing on bad
 * gradients, and its state round-trips. Run: node tools/run-tests.mjs libs/model adam
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  adamApply, adamState, buildGan, createAdam, disposeGan, getFlatWeights, loadAdamState, paramCount, setFlatWeights,
} from './index';
import { lcgArray, sameBytes, tinyMlp, useCpu } from './test-helpers';

before(useCpu);

/** torch.optim.Adam (no weight decay, no amsgrad) in float64. */
function referenceAdam(
  w0: Float32Array, gradSeq: Float32Array[], lr: number, b1: number, b2: number, eps: number,
): Float64Array {
  const w = Float64Array.from(w0);
  const m = new Float64Array(w.length);
  const v = new Float64Array(w.length);
  gradSeq.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < w.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mHat = m[i] / (1 - b1 ** t);
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps;
      w[i] -= (lr * mHat) / denom;
    }
  });
  return w;
}

describe('Adam (PyTorch semantics)', () => {
  it('matches the float64 reference over 5 steps (defaults and custom hyper-parameters)', () => {
    for (const opts of [{}, { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-6 }]) {
      const gan = buildGan(tinyMlp(), 1);
      try {
        const n = paramCount(gan.g);
        const w0 = getFlatWeights(gan.g);
        // Gradients of mixed scales, including exact zeros (v stays 0: the eps path).
        const grads = [1, 2, 3, 4, 5].map((k) => lcgArray(n, k, -1, 1).map((x, i) => (i % 7 === 0 ? 0 : x * 10 ** ((i % 5) - 3))));
        const adam = createAdam(gan.g, opts);
        for (const g of grads) adamApply(adam, gan.g, g);
        const full = { lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8, ...opts };
        const want = referenceAdam(w0, grads, full.lr, full.beta1, full.beta2, full.eps);
        const got = getFlatWeights(gan.g);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (Math.abs(want[i] - w0[i]) + 1e-6));
        // Relative to the size of the update: m, v and w are float32 (as in PyTorch), the reference is float64.
        assert.ok(worst < 1e-3, `worst relative error ${worst}`);
        assert.equal(adam.step, 5);
        assert.ok(!sameBytes(got, w0));
      } finally {
        disposeGan(gan);
      }
    }
  });

  it('a first step moves each weight by ≈ lr·sign(g) (bias correction)', () => {
    const gan = buildGan(tinyMlp(), 2);
    try {
      const w0 = getFlatWeights(gan.g);
      const g = lcgArray(w0.length, 3, -1, 1);
      adamApply(createAdam(gan.g, { lr: 0.01 }), gan.g, g);
      const w1 = getFlatWeights(gan.g);
      for (let i = 0; i < w0.length; i++) {
        assert.ok(Math.abs(w0[i] - w1[i] - 0.01 * Math.sign(g[i])) < 1e-5, `weight ${i}`);
      }
    } finally {
      disposeGan(gan);
    }
  });

  it('rejects NaN/Inf and wrong lengths before touching weights or state', () => {
    const gan = buildGan(tinyMlp(), 3);
    try {
      const adam = createAdam(gan.g);
      const n = paramCount(gan.g);
      adamApply(adam, gan.g, lcgArray(n, 1));
      const w = getFlatWeights(gan.g);
      const st = adamState(adam);
      const bad = lcgArray(n, 2);
      bad[n - 1] = NaN;
      assert.throws(() => adamApply(adam, gan.g, bad), new RegExp(`gradient ${n - 1} is NaN`));
      bad[n - 1] = Infinity;
      assert.throws(() => adamApply(adam, gan.g, bad), /is Infinity \(non-finite\)/);
      assert.throws(() => adamApply(adam, gan.g, new Float32Array(n + 1)), new RegExp(`expected ${n} gradient values`));
      assert.ok(sameBytes(getFlatWeights(gan.g), w));
      assert.equal(adam.step, 1);
      assert.ok(sameBytes(adam.m, st.m) && sameBytes(adam.v, st.v));
      assert.throws(() => createAdam(gan.g, { beta1: 1 }), /beta1 must be in/);
    } finally {
      disposeGan(gan);
    }
  });

  it('state export/import resumes bit-identically; external weight writes are honoured', () => {
    const gan = buildGan(tinyMlp(), 4);
    const twin = buildGan(tinyMlp(), 4);
    try {
      const n = paramCount(gan.g);
      const a = createAdam(gan.g);
      for (let k = 0; k < 3; k++) adamApply(a, gan.g, lcgArray(n, k));
      // A "checkpoint": weights + optimizer state into a fresh replica.
      setFlatWeights(twin.g, getFlatWeights(gan.g));
      const b = createAdam(twin.g);
      loadAdamState(b, adamState(a));
      adamApply(a, gan.g, lcgArray(n, 9));
      adamApply(b, twin.g, lcgArray(n, 9));
      assert.ok(sameBytes(getFlatWeights(gan.g), getFlatWeights(twin.g)));
      // Writing weights behind Adam's back (e.g. loading a checkpoint) must invalidate its host copy.
      const fresh = lcgArray(n, 42);
      setFlatWeights(gan.g, fresh);
      adamApply(a, gan.g, new Float32Array(n)); // zero grad: update is -lr·m̂/…, from the *new* weights
      const after = getFlatWeights(gan.g);
      assert.ok(Math.abs(after[0] - fresh[0]) < 1e-2, 'update applied to the freshly loaded weights');
      assert.throws(() => loadAdamState(b, { step: 1, m: new Float32Array(3), v: new Float32Array(3) }), /m must be a Float32Array of/);
      assert.throws(() => loadAdamState(b, { step: -1, m: a.m, v: a.v }), /step must be/);
    } finally {
      disposeGan(gan);
      disposeGan(twin);
    }
  });
});
