/**
 * Flat views: get → set → get round-trips, stable names/order, wrong lengths throw, buffers.
 * Run: node tools/run-tests.mjs libs/model flat
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildGan, disposeGan, getFlatBuffers, getFlatWeights, namedBuffers, namedWeights, paramCount, setFlatBuffers,
  setFlatWeights,
} from './index';
import { lcgArray, tinyDcgan, tinyMlp, useCpu } from './test-helpers';

before(useCpu);

describe('flat views', () => {
  it('round-trips weights in the documented order', () => {
    const gan = buildGan(tinyDcgan(), 1);
    try {
      for (const net of [gan.g, gan.d]) {
        const n = paramCount(net);
        const flat = lcgArray(n, 9);
        setFlatWeights(net, flat);
        assert.deepEqual(getFlatWeights(net), flat);
        // namedWeights slices the same flat vector in order.
        const named = namedWeights(net);
        let off = 0;
        for (const w of named) {
          assert.deepEqual(w.data, flat.subarray(off, off + w.data.length), w.name);
          assert.equal(w.data.length, w.shape.reduce((a, b) => a * b, 1));
          off += w.data.length;
        }
        assert.equal(off, n);
        // The variables must not alias the caller's array.
        flat[0] += 1;
        assert.notEqual(getFlatWeights(net)[0], flat[0]);
      }
      assert.deepEqual(namedWeights(gan.g).map((w) => w.name), [
        'g.fc.weight', 'g.fc.bias', 'g.bn0.gamma', 'g.bn0.beta',
        'g.deconv1.weight', 'g.deconv1.bias', 'g.bn1.gamma', 'g.bn1.beta',
        'g.deconv2.weight', 'g.deconv2.bias', 'g.bn2.gamma', 'g.bn2.beta',
        'g.deconv3.weight', 'g.deconv3.bias',
      ]);
    } finally {
      disposeGan(gan);
    }
  });

  it('round-trips BN buffers (running_mean then running_var per BN); empty without BN', () => {
    const gan = buildGan(tinyDcgan(), 1);
    const plain = buildGan(tinyMlp(), 1);
    try {
      assert.deepEqual(namedBuffers(gan.d).map((b) => b.name), [
        'd.bn2.running_mean', 'd.bn2.running_var', 'd.bn3.running_mean', 'd.bn3.running_var',
      ]);
      const init = getFlatBuffers(gan.d);
      assert.deepEqual([...init.subarray(0, 8)], new Array(8).fill(0));
      assert.deepEqual([...init.subarray(8, 16)], new Array(8).fill(1));
      const flat = lcgArray(init.length, 3, 0, 2);
      setFlatBuffers(gan.d, flat);
      assert.deepEqual(getFlatBuffers(gan.d), flat);
      assert.equal(getFlatBuffers(plain.g).length, 0);
      setFlatBuffers(plain.d, new Float32Array(0));
    } finally {
      disposeGan(gan);
      disposeGan(plain);
    }
  });

  it('rejects a wrong length with a clear error and leaves weights unchanged', () => {
    const gan = buildGan(tinyMlp(), 1);
    try {
      const before = getFlatWeights(gan.g);
      const n = paramCount(gan.g);
      assert.throws(() => setFlatWeights(gan.g, new Float32Array(n - 1)), new RegExp(`expected ${n} values, got ${n - 1}`));
      assert.throws(() => setFlatBuffers(gan.g, new Float32Array(3)), /expected 0 values, got 3/);
      assert.deepEqual(getFlatWeights(gan.g), before);
    } finally {
      disposeGan(gan);
    }
    assert.throws(() => getFlatWeights(gan.g), /disposed/);
  });
});
