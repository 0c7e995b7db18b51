/**
 * RMSprop and the optimiser interface over it: matches a float64 evaluation of torch.optim.RMSprop's formula over
 * several steps, is all-or-nothing on bad gradients, its state round-trips (and refuses Adam's), and two replicas fed
 * the same gradients stay bit-identical. Against PyTorch itself: test/torch-reference.test.ts.
 * Run: node tools/run-tests.mjs libs/model rmsprop
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildGan, createOptimizer, createRmsProp, disposeGan, getFlatWeights, loadOptimizerState, loadRmsPropState,
  optimizerApply, optimizerState, paramCount, rmspropApply, rmspropState,
} from './index';
import { lcgArray, sameBytes, tinyMlp, useCpu } from './test-helpers';

before(useCpu);

/** torch.optim.RMSprop (alpha, eps; no momentum, not centered, no weight decay) in float64. */
function referenceRmsProp(w0: Float32Array, gradSeq: Float32Array[], lr: number, alpha: number, eps: number): Float64Array {
  const w = Float64Array.from(w0);
  const s = new Float64Array(w.length);
  for (const g of gradSeq) {
    for (let i = 0; i < w.length; i++) {
      s[i] = alpha * s[i] + (1 - alpha) * g[i] * g[i];
      w[i] -= (lr * g[i]) / (Math.sqrt(s[i]) + eps);
    }
  }
  return w;
}

const gradients = (n: number) => [1, 2, 3, 4, 5].map((k) => lcgArray(n, k, -1, 1).map((x, i) => (i % 7 === 0 ? 0 : x * 10 ** ((i % 5) - 3))));

describe('RMSprop (PyTorch semantics)', () => {
  it('matches the float64 reference over 5 steps (torch defaults: alpha 0.99, eps 1e-8)', () => {
    for (const lr of [2e-4, 5e-5]) {
      const gan = buildGan(tinyMlp(), 1);
      try {
        const n = paramCount(gan.g);
        const w0 = getFlatWeights(gan.g);
        const grads = gradients(n);
        const opt = createOptimizer(gan.g, { optimizer: 'rmsprop', lr });
        for (const g of grads) optimizerApply(opt, gan.g, g);
        const want = referenceRmsProp(w0, grads, lr, 0.99, 1e-8);
        const got = getFlatWeights(gan.g);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (Math.abs(want[i] - w0[i]) + 1e-6));
        assert.ok(worst < 1e-3, `worst relative error ${worst}`);
        assert.equal(optimizerState(opt).step, 5);
        // A first step moves a weight by ≈ 10·lr·sign(g): the square average starts at 0.01·g².
        assert.ok(!sameBytes(got, w0));
      } finally {
        disposeGan(gan);
      }
    }
  });

  it('a non-finite gradient or a wrong length throws and changes nothing', () => {
    const gan = buildGan(tinyMlp(), 2);
    try {
      const n = paramCount(gan.g);
      const opt = createRmsProp(gan.g, { lr: 1e-3 });
      rmspropApply(opt, gan.g, lcgArray(n, 9));
      const before = { w: getFlatWeights(gan.g), s: rmspropState(opt) };
      const bad = lcgArray(n, 3);
      bad[n - 1] = NaN;
      assert.throws(() => rmspropApply(opt, gan.g, bad), new RegExp(`^Error: rmspropApply: gradient ${n - 1} is NaN \\(non-finite\\); weights left unchanged$`));
      assert.throws(() => rmspropApply(opt, gan.g, new Float32Array(n + 1)), /expected \d+ gradient values, got \d+/);
      assert.ok(sameBytes(getFlatWeights(gan.g), before.w));
      assert.ok(sameBytes(rmspropState(opt).squareAvg, before.s.squareAvg));
      assert.equal(opt.step, 1);
      assert.throws(() => createRmsProp(gan.g, { alpha: 1 }), /alpha must be in \[0, 1\), got 1/);
    } finally {
      disposeGan(gan);
    }
  });

  it('state round-trips bit for bit; Adam state is refused; replicas fed the same gradients stay identical', () => {
    const a = buildGan(tinyMlp(), 3);
    const b = buildGan(tinyMlp(), 3);
    try {
      const n = paramCount(a.d);
      const grads = gradients(n);
      const oa = createOptimizer(a.d, { optimizer: 'rmsprop', lr: 1e-3 });
      const ob = createOptimizer(b.d, { optimizer: 'rmsprop', lr: 1e-3 });
      for (const g of grads.slice(0, 2)) {
        optimizerApply(oa, a.d, g);
        optimizerApply(ob, b.d, g);
      }
      // b continues from a copy of a's saved state (a resumed replica): both must still agree to the bit.
      const saved = optimizerState(oa);
      const fresh = createOptimizer(b.d, { optimizer: 'rmsprop', lr: 1e-3 });
      loadOptimizerState(fresh, saved);
      for (const g of grads.slice(2)) {
        optimizerApply(oa, a.d, g);
        optimizerApply(fresh, b.d, g);
      }
      assert.ok(sameBytes(getFlatWeights(a.d), getFlatWeights(b.d)));
      assert.ok(sameBytes(optimizerState(oa).slots.square_avg, optimizerState(fresh).slots.square_avg));
      const adam = createOptimizer(a.d, { optimizer: 'adam' });
      assert.throws(() => loadOptimizerState(adam, saved), /^Error: loadOptimizerState: the state is rmsprop's, the optimizer is adam$/);
      assert.throws(() => loadRmsPropState(createRmsProp(a.d), { step: 1, squareAvg: new Float32Array(3) }), /squareAvg must be a Float32Array of \d+ values, got 3/);
    } finally {
      disposeGan(a);
      disposeGan(b);
    }
  });
});
