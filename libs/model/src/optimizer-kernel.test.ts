/**
 * The optimisers on several host threads (@gan/backend's pool, one chunk of the elements each) give the same bits
 * as on one, for Adam and RMSprop, over several steps; a non-finite gradient in a later chunk is still found, first
 * index first, and changes nothing. Run: node tools/run-tests.mjs libs/model optimizer-kernel
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_HOST_CHUNK, setHostThreads } from '@gan/backend';
import { buildGan, createOptimizer, disposeGan, getFlatWeights, optimizerApply, optimizerState, paramCount, OPTIMIZERS } from './index';
import { lcgArray, sameBytes, tinyMlp, useCpu } from './test-helpers';

before(useCpu);
after(() => setHostThreads(1));

/** An MLP whose G has several host chunks' worth of parameters (hidden 512: ~270 k). */
const wide = () => tinyMlp({ mlpHidden: 512 });

describe('optimisers on the host threads', () => {
  for (const kind of OPTIMIZERS) {
    it(`${kind}: 1 and 3 threads give bit-identical weights and state over 4 steps`, () => {
      const [one, three] = [buildGan(wide(), 5), buildGan(wide(), 5)];
      try {
        const n = paramCount(one.g);
        assert.ok(n >= 3 * MIN_HOST_CHUNK, `G has ${n} parameters: too few to split three ways`);
        const w0 = getFlatWeights(one.g);
        const [optOne, optThree] = [createOptimizer(one.g, { optimizer: kind, lr: 1e-3 }), createOptimizer(three.g, { optimizer: kind, lr: 1e-3 })];
        for (let t = 1; t <= 4; t++) {
          const g = lcgArray(n, t, -1, 1).map((x, i) => x * 10 ** ((i % 5) - 4));
          setHostThreads(1);
          optimizerApply(optOne, one.g, g);
          setHostThreads(3);
          optimizerApply(optThree, three.g, g);
        }
        assert.ok(sameBytes(getFlatWeights(one.g), getFlatWeights(three.g)), 'weights');
        const [s1, s3] = [optimizerState(optOne), optimizerState(optThree)];
        for (const slot of Object.keys(s1.slots)) assert.ok(sameBytes(s1.slots[slot], s3.slots[slot]), slot);
        assert.ok(!sameBytes(getFlatWeights(one.g), w0), 'the weights moved');
      } finally {
        disposeGan(one);
        disposeGan(three);
      }
    });
  }

  it('a non-finite value in a later chunk is found (the first of two) and changes nothing', () => {
    const gan = buildGan(wide(), 6);
    try {
      setHostThreads(3);
      const n = paramCount(gan.g);
      const opt = createOptimizer(gan.g, { lr: 1e-3 });
      const w = getFlatWeights(gan.g);
      const g = lcgArray(n, 1);
      // The middle of the second of three chunks, and near the end of the third.
      const first = Math.floor(n / 2) + 1;
      g[n - 3] = NaN;
      g[first] = -Infinity;
      assert.throws(() => optimizerApply(opt, gan.g, g), new RegExp(`^Error: adamApply: gradient ${first} is -Infinity \\(non-finite\\); weights left unchanged$`));
      assert.ok(sameBytes(getFlatWeights(gan.g), w));
      assert.equal(optimizerState(opt).step, 0);
    } finally {
      disposeGan(gan);
    }
  });
});
