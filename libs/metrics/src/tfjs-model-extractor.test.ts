// Tests of `--features MODEL`: a real TF.js graph model (model.json with a GraphDef, weights shard), written at test
// time by libs/metrics/scripts/make-graph-model-fixture.ts into a temp dir, loaded through our file IOHandler and
// @tensorflow/tfjs-converter; its features and probabilities must equal the same maths done directly with tf ops
// (including the resize and channel repeat of a smaller 1-channel run). A TF.js layers model saved by
// @tensorflow/tfjs-layers goes through the same path. Malformed model.json, missing or short weights and unknown
// nodes are one-line errors.
// Run: node tools/run-tests.mjs libs/metrics tfjs-model
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gan/backend';
import { Rng } from '@gan/data';
import { makeGraphModelFixture, type GraphFixture } from '../scripts/make-graph-model-fixture';
import { extractFeatures, featureScores, loadModelExtractor, readModelFiles } from './index';

let dir: string;
let fx: GraphFixture;

before(async () => {
  await initBackend('cpu');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-graph-model-'));
  fx = makeGraphModelFixture(path.join(dir, 'tiny-net'), { size: 16, channels: 3, filters: 6, classes: 4, seed: 5 });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function images(n: number, size: number, channels: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * size * size * channels }, () => rng.next() * 2 - 1);
}

/** The fixture's graph, with tf ops on its weights. */
function reference(x: tf.Tensor4D): { features: Float32Array; probs: Float32Array } {
  return tf.tidy(() => {
    const k = tf.tensor4d(fx.kernel, [3, 3, fx.channels, fx.filters]);
    const h = tf.relu(tf.add(tf.conv2d(x, k, 1, 'same'), tf.tensor1d(fx.convBias)));
    const f = tf.mean(h, [1, 2]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(f, tf.tensor2d(fx.dense, [fx.filters, fx.classes])), tf.tensor1d(fx.denseBias)) as tf.Tensor2D;
    return { features: f.dataSync() as Float32Array, probs: tf.softmax(logits).dataSync() as Float32Array };
  });
}

function assertClose(a: Float32Array, b: Float32Array, tol: number, what: string) {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst <= tol, `${what}: max |diff| ${worst}`);
}

test('a graph model: features and probabilities equal the same maths with tf ops', async () => {
  const n0 = tf.memory().numTensors;
  const ex = await loadModelExtractor(fx.modelJson, { featuresNode: 'features', logitsNode: 'logits' });
  try {
    assert.equal(ex.name, 'tiny-net');
    assert.deepEqual([ex.inputSize, ex.channels, ex.featureDim, ex.classes], [16, 3, 6, 4]);
    const n = 70; // more than one batch of 64
    const x = images(n, 16, 3, 1);
    const got = await extractFeatures(ex, x, { size: 16, channels: 3 });
    const xt = tf.tensor4d(x, [n, 16, 16, 3]);
    const want = reference(xt);
    xt.dispose();
    assertClose(got.features, want.features, 1e-5, 'features');
    assertClose(got.probs!, want.probs, 1e-6, 'probs');
    // Not vacuous: the features differ between images.
    assert.notEqual(got.features[0], got.features[6]);
  } finally {
    ex.dispose();
  }
  assert.equal(tf.memory().numTensors, n0, 'nothing leaked once the model is disposed');
});

test('a smaller 1-channel run is resized (half-pixel bilinear) and repeated to 3 channels; [0, 1] input range', async () => {
  const ex = await loadModelExtractor(path.dirname(fx.modelJson), { featuresNode: 'features', logitsNode: 'logits', inputRange: [0, 1], name: 'tiny' });
  try {
    const x = images(5, 8, 1, 2);
    const got = await extractFeatures(ex, x, { size: 8, channels: 1 });
    const t = tf.tidy(() => {
      const r = tf.image.resizeBilinear(tf.tensor4d(x, [5, 8, 8, 1]), [16, 16], false, true);
      return tf.div(tf.add(tf.concat([r, r, r], 3), 1), 2) as tf.Tensor4D;
    });
    const want = reference(t);
    t.dispose();
    assertClose(got.features, want.features, 1e-5, 'features');
    assertClose(got.probs!, want.probs, 1e-6, 'probs');
    await assert.rejects(extractFeatures(ex, images(2, 8, 3, 3).subarray(0, 100), { size: 8, channels: 3 }), /tiny: images: 100 values is not a whole number of 8×8×3 images/);
  } finally {
    ex.dispose();
  }
});

test('without a logits node: features only (the graph\'s one output by default), and no IS', async () => {
  const ex = await loadModelExtractor(fx.modelJson, { featuresNode: 'features' });
  try {
    assert.equal(ex.classes, 0);
    const s = await featureScores(ex, { generated: images(20, 16, 3, 4), realA: images(30, 16, 3, 5), realB: images(20, 16, 3, 6) }, { size: 16, channels: 3 });
    assert.equal(s.fd.name, 'tiny-net FD');
    assert.equal(s.is, undefined);
    assert.ok(s.fd.value >= 0 && s.fd.real_vs_real >= 0);
  } finally {
    ex.dispose();
  }
  const byDefault = await loadModelExtractor(fx.modelJson);
  try {
    assert.equal(byDefault.featureDim, 4, 'the only output, probs, is taken as the features');
  } finally {
    byDefault.dispose();
  }
});

test('a TF.js layers model goes through the same file handler', async () => {
  const tfl = await import('@tensorflow/tfjs-layers');
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', name: 'conv' }),
      tfl.layers.globalAveragePooling2d({ name: 'pool' }),
      tfl.layers.dense({ units: 3, name: 'logits' }),
    ],
  });
  const ldir = path.join(dir, 'layers-net');
  fs.mkdirSync(ldir);
  await m.save({
    save: async (a) => {
      fs.writeFileSync(path.join(ldir, 'w.bin'), Buffer.from(a.weightData as ArrayBuffer));
      fs.writeFileSync(path.join(ldir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  const ex = await loadModelExtractor(ldir, { featuresNode: 'pool', logitsNode: 'logits' });
  try {
    assert.deepEqual([ex.inputSize, ex.channels, ex.featureDim, ex.classes], [8, 3, 4, 3]);
    const x = images(6, 8, 3, 7);
    const got = await extractFeatures(ex, x, { size: 8, channels: 3 });
    const want = tf.tidy(() => tf.softmax(m.predict(tf.tensor4d(x, [6, 8, 8, 3])) as tf.Tensor2D).dataSync() as Float32Array);
    assertClose(got.probs!, want, 1e-6, 'layers probs');
  } finally {
    ex.dispose();
    m.dispose();
  }
});

test('malformed model.json, missing or short weights, unknown nodes: one-line errors naming the file', async () => {
  const bad = path.join(dir, 'bad');
  fs.mkdirSync(bad);
  const write = (json: string) => fs.writeFileSync(path.join(bad, 'model.json'), json);
  const oneLine = async (p: Promise<unknown>, re: RegExp) => {
    await assert.rejects(p, (e: Error) => {
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      return true;
    });
  };
  await oneLine(loadModelExtractor(path.join(dir, 'nope')), /features model .*nope: does not exist/);
  write('{"modelTopology": {"node": [');
  await oneLine(loadModelExtractor(bad), /bad\/model\.json: is not valid JSON/);
  write('{"weightsManifest": []}');
  await oneLine(loadModelExtractor(bad), /has no modelTopology object/);
  const good = JSON.parse(fs.readFileSync(fx.modelJson, 'utf8'));
  write(JSON.stringify({ ...good, weightsManifest: undefined }));
  await oneLine(loadModelExtractor(bad), /has no weightsManifest array/);
  write(JSON.stringify(good));
  await oneLine(loadModelExtractor(bad), /weight file .*group1-shard1of1\.bin \(listed in weightsManifest\) is missing/);
  fs.writeFileSync(path.join(bad, 'group1-shard1of1.bin'), fs.readFileSync(path.join(path.dirname(fx.modelJson), 'group1-shard1of1.bin')).subarray(0, 100));
  await oneLine(loadModelExtractor(bad), /files hold 100 bytes; its weights need 792/);
  fs.copyFileSync(path.join(path.dirname(fx.modelJson), 'group1-shard1of1.bin'), path.join(bad, 'group1-shard1of1.bin'));
  await oneLine(loadModelExtractor(bad, { featuresNode: 'pool_3' }), /running it on a 16×16×3 image failed \(output pool_3\)/);
  await oneLine(loadModelExtractor(bad, { featuresNode: 'features', logitsNode: 'probs' }), /node 'probs' already gives probabilities/);
  assert.equal(readModelFiles(bad).format, 'graph-model');
});
