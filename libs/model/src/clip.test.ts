// WGAN weight clipping: every trainable weight (BatchNorm's γ/β too) ends in [-c, c], values inside are untouched,
// the tensors and the host copy agree, and the next Adam step starts from the clipped weights.
// Run: node tools/run-tests.mjs libs/model clip
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adamApply, buildGan, clipWeights, createAdam, disposeGan, getFlatWeights, paramCount, setFlatWeights } from './index';
import { lcgArray, sameBytes, tinyDcgan, useCpu } from './test-helpers';

before(useCpu);

/** The net's weights read from its tensors (not from any host copy). */
function readAll(params: readonly { variable: { dataSync(): ArrayLike<number> } }[]): Float32Array {
  return Float32Array.from(params.flatMap((p) => Array.from(p.variable.dataSync())));
}

test('clamps to [-c, c] as float32, counts what moved, leaves the rest bit-identical', () => {
  const gan = buildGan(tinyDcgan(), 3);
  try {
    const n = paramCount(gan.d);
    const w = lcgArray(n, 5, -0.05, 0.05);
    setFlatWeights(gan.d, w);
    const c = 0.01;
    const want = w.map((v) => Math.min(Math.fround(c), Math.max(-Math.fround(c), v)));
    const moved = clipWeights(gan.d, c);
    assert.equal(moved, w.filter((v) => Math.abs(v) > Math.fround(c)).length);
    assert.ok(moved > n / 2, `${moved} of ${n} moved`);
    assert.ok(sameBytes(getFlatWeights(gan.d), want), 'host copy');
    assert.ok(sameBytes(readAll(gan.d.params), want), 'the tensors themselves');
    assert.equal(clipWeights(gan.d, c), 0, 'clipping twice moves nothing');
    // BatchNorm γ starts at 1: it is a parameter, so it is clipped too (as PyTorch's netD.parameters()).
    const fresh = buildGan(tinyDcgan(), 3);
    try {
      clipWeights(fresh.d, c);
      const gammas = fresh.d.params.filter((p) => p.name.endsWith('.gamma'));
      assert.ok(gammas.length > 0);
      for (const p of gammas) assert.ok(Array.from(p.variable.dataSync()).every((v) => v === Math.fround(c)), p.name);
    } finally {
      disposeGan(fresh);
    }
  } finally {
    disposeGan(gan);
  }
});

test('the next Adam step starts from the clipped weights', () => {
  const a = buildGan(tinyDcgan(), 4);
  const b = buildGan(tinyDcgan(), 4);
  try {
    const n = paramCount(a.d);
    const g = lcgArray(n, 9);
    const adamA = createAdam(a.d, { lr: 1e-3 });
    const adamB = createAdam(b.d, { lr: 1e-3 });
    adamApply(adamA, a.d, g);
    adamApply(adamB, b.d, g);
    clipWeights(a.d, 0.02);
    // b gets the same clipped weights written from outside, so its Adam must re-read them.
    setFlatWeights(b.d, getFlatWeights(a.d));
    adamApply(adamA, a.d, g);
    adamApply(adamB, b.d, g);
    assert.ok(sameBytes(getFlatWeights(a.d), getFlatWeights(b.d)));
    assert.ok(sameBytes(readAll(a.d.params), getFlatWeights(a.d)));
  } finally {
    disposeGan(a);
    disposeGan(b);
  }
});

test('a bad c is a one-line error', () => {
  const gan = buildGan(tinyDcgan(), 1);
  try {
    for (const c of [0, -1, NaN, Infinity]) assert.throws(() => clipWeights(gan.d, c), /^Error: clipWeights: c must be a positive finite number/);
  } finally {
    disposeGan(gan);
  }
});
