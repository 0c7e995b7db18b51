/**
 * Builder tests: PyTorch parameter counts of the document's DCGAN, the family rule's shapes, names/order, init
 * statistics and bad configs. Run: node tools/run-tests.mjs libs/model gan-build
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  buildGan, bufferCount, disposeGan, generate, getFlatWeights, namedWeights, paramCount, sampleNoise, dGradients,
} from './index';
import { tinyDcgan, tinyMlp, useCpu } from './test-helpers';

before(useCpu);

describe('DCGAN builder', () => {
  it("matches PyTorch's parameter counts for the document's 64×64×3 model", () => {
    const gan = buildGan(tinyDcgan({ imageSize: 64, channels: 3, nz: 100, ngf: 128, ndf: 64 }), 7);
    try {
      assert.equal(paramCount(gan.g), 12_706_435);
      assert.equal(paramCount(gan.d), 2_766_529);
      // Running stats: G bn0 (16384) + 512 + 256 + 128, D 128 + 256 + 512; two buffers each.
      assert.equal(bufferCount(gan.g), 2 * (16384 + 512 + 256 + 128));
      assert.equal(bufferCount(gan.d), 2 * (128 + 256 + 512));
      const names = gan.d.params.map((p) => p.name);
      assert.deepEqual(names, [
        'd.conv1.weight', 'd.conv1.bias', 'd.conv2.weight', 'd.conv2.bias', 'd.bn2.gamma', 'd.bn2.beta',
        'd.conv3.weight', 'd.conv3.bias', 'd.bn3.gamma', 'd.bn3.beta', 'd.conv4.weight', 'd.conv4.bias',
        'd.bn4.gamma', 'd.bn4.beta', 'd.fc.weight', 'd.fc.bias',
      ]);
      assert.deepEqual(gan.d.params.at(-2)!.variable.shape, [8192, 1]);
      assert.deepEqual(gan.g.params[0].variable.shape, [100, 16384]);
    } finally {
      disposeGan(gan);
    }
  });

  it("matches the 'small' benchmark model's widths (G 100→256·4·4→128→64→1, D 32→64→128)", () => {
    const gan = buildGan(tinyDcgan({ imageSize: 32, channels: 1, nz: 100, ngf: 64, ndf: 32 }), 1);
    try {
      const shapes = Object.fromEntries(namedWeights(gan.g).map((w) => [w.name, w.shape]));
      assert.deepEqual(shapes['g.fc.weight'], [100, 4096]);
      assert.deepEqual(shapes['g.deconv1.weight'], [4, 4, 128, 256]);
      assert.deepEqual(shapes['g.deconv2.weight'], [4, 4, 64, 128]);
      assert.deepEqual(shapes['g.deconv3.weight'], [4, 4, 1, 64]);
      const dShapes = gan.d.params.filter((p) => p.name.endsWith('weight')).map((p) => p.variable.shape);
      assert.deepEqual(dShapes, [[4, 4, 1, 32], [4, 4, 32, 64], [4, 4, 64, 128], [2048, 1]]);
    } finally {
      disposeGan(gan);
    }
  });

  for (const [imageSize, channels, norm] of [
    [28, 1, 'batch'], [28, 3, 'none'], [32, 1, 'none'], [32, 3, 'batch'], [64, 1, 'batch'], [64, 3, 'none'],
  ] as const) {
    it(`produces ${imageSize}×${imageSize}×${channels} images and [B,1] logits (norm ${norm})`, () => {
      const gan = buildGan(tinyDcgan({ imageSize, channels, norm, ngf: 2, ndf: 2 }), 3);
      const z = sampleNoise(2, 8, 1);
      const real = tf.zeros([2, imageSize, imageSize, channels]);
      try {
        const img = generate(gan, z);
        assert.equal(img.length, 2 * imageSize * imageSize * channels);
        assert.ok(img.every((v) => v >= -1 && v <= 1), 'tanh output in [-1,1]');
        const r = dGradients(gan, real, z);
        assert.equal(r.grads.length, paramCount(gan.d));
        assert.ok(r.dReal > 0 && r.dReal < 1 && r.dFake > 0 && r.dFake < 1);
        const hasBn = gan.g.params.some((p) => p.name.includes('.bn'));
        assert.equal(hasBn, norm === 'batch');
        assert.equal(bufferCount(gan.d) > 0, norm === 'batch');
      } finally {
        z.dispose();
        real.dispose();
        disposeGan(gan);
      }
    });
  }

  it('rejects an image size the family cannot make, naming it', () => {
    assert.throws(() => buildGan(tinyDcgan({ imageSize: 48 }), 1), /image size 48 cannot be made/);
    assert.throws(() => buildGan(tinyDcgan({ imageSize: 4 }), 1), /image size 4 cannot be made/);
    assert.throws(() => buildGan(tinyDcgan({ channels: 2 as 1 }), 1), /channels must be 1 or 3/);
    assert.throws(() => buildGan(tinyDcgan({ nz: 0 }), 1), /nz must be a positive integer/);
  });

  it('initializes like pytorch/examples dcgan (weights N(0,0.02), biases 0, gamma N(1,0.02))', () => {
    const gan = buildGan(tinyDcgan({ imageSize: 64, channels: 3, nz: 100, ngf: 16, ndf: 16 }), 11);
    try {
      for (const w of namedWeights(gan.g).concat(namedWeights(gan.d))) {
        const n = w.data.length;
        const mean = w.data.reduce((a, b) => a + b, 0) / n;
        const std = Math.sqrt(w.data.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
        if (w.name.endsWith('.bias') || w.name.endsWith('.beta')) {
          assert.ok(w.data.every((v) => v === 0), `${w.name} zero`);
        } else if (n >= 1000) {
          const mu = w.name.endsWith('.gamma') ? 1 : 0;
          assert.ok(Math.abs(mean - mu) < 0.003, `${w.name} mean ${mean}`);
          assert.ok(Math.abs(std - 0.02) < 0.002, `${w.name} std ${std}`);
        }
      }
    } finally {
      disposeGan(gan);
    }
  });

  it('is seeded: same seed → bit-identical weights, other seed → different', () => {
    const a = buildGan(tinyDcgan(), 5);
    const b = buildGan(tinyDcgan(), 5);
    const c = buildGan(tinyDcgan(), 6);
    try {
      assert.deepEqual(getFlatWeights(a.g), getFlatWeights(b.g));
      assert.deepEqual(getFlatWeights(a.d), getFlatWeights(b.d));
      assert.notDeepEqual(getFlatWeights(a.g), getFlatWeights(c.g));
    } finally {
      [a, b, c].forEach(disposeGan);
    }
  });

  it('builds the MLP (nz→h→h→dataDim, dataDim→h→h→1) ignoring norm', () => {
    const gan = buildGan(tinyMlp({ nz: 3, mlpHidden: 5, dataDim: 2, norm: 'batch' }), 1);
    try {
      assert.deepEqual(gan.g.params.map((p) => `${p.name}:${p.variable.shape}`), [
        'g.fc1.weight:3,5', 'g.fc1.bias:5', 'g.fc2.weight:5,5', 'g.fc2.bias:5', 'g.fc3.weight:5,2', 'g.fc3.bias:2',
      ]);
      assert.equal(paramCount(gan.d), 2 * 5 + 5 + 5 * 5 + 5 + 5 + 1);
      assert.equal(bufferCount(gan.g) + bufferCount(gan.d), 0);
    } finally {
      disposeGan(gan);
    }
  });
});
