/**
 * In-process tests of the unrolled D (unrolled-d.ts; tiny DCGAN with BatchNorm and spectral norm, cpu backend):
 * the unroll leaves the real D and its optimiser's state bit-identical to a plain step's, and its buffers as the D
 * update left them (G's pass moves the copy's, as through PyTorch's deepcopy), while G's update changes; G's gradient is exactly the one taken through D advanced by K criticSteps; K = 0 is the plain step
 * bit for bit; and an unrolled update that fails puts D back as it was. Run: node tools/run-tests.mjs libs/training unrolled
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gan/backend';
import {
  buildGan, createOptimizer, disposeGan, getFlatBuffers, getFlatWeights, gGradients, noiseData, optimizerState,
  type ModelConfig,
} from '@gan/model';
import { LocalReducer } from './reducer';
import type { TrainState } from './run-state';
import { criticStep, trainStep, type StepOptions } from './train-step';
import { withUnrolledD, type UnrollBatch } from './unrolled-d';

const CFG: ModelConfig = { model: 'dcgan', imageSize: 32, channels: 1, nz: 8, ngf: 4, ndf: 4, norm: 'batch', mlpHidden: 8, dataDim: 2, spectralNorm: true };
const B = 4;
const OPTS: StepOptions = { realLabel: 1, loss: 'non-saturating' };

before(async () => {
  await initBackend('cpu');
});

function state(): TrainState {
  const gan = buildGan(CFG, 3);
  return { gan, optG: createOptimizer(gan.g, { lr: 1e-3 }), optD: createOptimizer(gan.d, { lr: 1e-3 }), step: 0 };
}

/** Batch `i`: images in [-1, 1) and z, both from seeded noise. */
function batch(i: number): UnrollBatch {
  const x = noiseData(B, 32 * 32, 100 + i).map((v) => Math.tanh(v));
  return { real: tf.tensor(x, [B, 32, 32, 1]), z: tf.tensor2d(noiseData(B, CFG.nz, 200 + i), [B, CFG.nz]) };
}

const free = (bs: UnrollBatch[]) => bs.forEach((b) => tf.dispose([b.real, b.z]));

/** Everything a step may change, as bytes per part. */
function parts(st: TrainState): Record<string, Buffer> {
  const buf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const out: Record<string, Buffer> = {
    gW: buf(getFlatWeights(st.gan.g)), gB: buf(getFlatBuffers(st.gan.g)), dW: buf(getFlatWeights(st.gan.d)), dB: buf(getFlatBuffers(st.gan.d)),
  };
  for (const [tag, opt] of [['optG', st.optG], ['optD', st.optD]] as const) {
    const s = optimizerState(opt);
    out[`${tag}.step`] = Buffer.from(String(s.step));
    for (const [k, v] of Object.entries(s.slots)) out[`${tag}.${k}`] = buf(v);
  }
  return out;
}

test('the unroll leaves D and its optimiser as a plain step does, its buffers as the D update did; G trains through D advanced by K criticSteps', async () => {
  const [plain, unrolled, manual, dOnly] = [state(), state(), state(), state()];
  const [main, ...extra] = [batch(0), batch(1), batch(2)];
  const reducer = new LocalReducer();
  try {
    await trainStep(plain, main.real, main.z, reducer, OPTS);
    const r = await trainStep(unrolled, main.real, main.z, reducer, OPTS, extra);
    const a = parts(plain);
    const b = parts(unrolled);
    for (const k of ['dW', 'gB', 'optD.step', 'optD.m', 'optD.v']) assert.ok(a[k].equals(b[k]), `${k} differs from a plain step's`);
    assert.ok(!a.gW.equals(b.gW), 'G trained as without the unroll');
    // A plain step's G pass moves D's BatchNorm statistics and spectral-norm vectors; with the unroll it is the copy's.
    assert.ok(!a.dB.equals(b.dB), 'D\'s buffers equal a plain step\'s: the G pass did not go through the copy');
    await criticStep(dOnly, main.real, main.z, reducer, OPTS);
    assert.ok(parts(dOnly).dB.equals(b.dB), 'D\'s buffers are not those its own update left');
    // The same by hand: the real D update, two more, then G's gradient through that D.
    await criticStep(manual, main.real, main.z, reducer, OPTS);
    for (const e of extra) await criticStep(manual, e.real, e.z, reducer, OPTS);
    const g = gGradients(manual.gan, main.z as tf.Tensor2D, { loss: OPTS.loss });
    assert.ok(Buffer.from(g.grads.buffer, g.grads.byteOffset, g.grads.byteLength).equals(Buffer.from(r.g.grads.buffer, r.g.grads.byteOffset, r.g.grads.byteLength)), 'G\'s gradient is not the one through D advanced by 2 criticSteps');
  } finally {
    free([main, ...extra]);
    [plain, unrolled, manual, dOnly].forEach((s) => disposeGan(s.gan));
  }
});

test('K = 0 is the plain step, bit for bit', async () => {
  const [x, y] = [state(), state()];
  const m = batch(0);
  try {
    await trainStep(x, m.real, m.z as tf.Tensor2D, new LocalReducer(), OPTS);
    await trainStep(y, m.real, m.z as tf.Tensor2D, new LocalReducer(), OPTS, []);
    const a = parts(x);
    const b = parts(y);
    for (const k of Object.keys(a)) assert.ok(a[k].equals(b[k]), `${k} differs`);
  } finally {
    free([m]);
    disposeGan(x.gan);
    disposeGan(y.gan);
  }
});

test('an unrolled update that fails puts D, its buffers and its optimiser back', async () => {
  const st = state();
  const good = batch(1);
  const bad = batch(2);
  const nan = { real: tf.fill([B, 32, 32, 1], NaN), z: bad.z };
  const reducer = new LocalReducer();
  try {
    const before = parts(st);
    let ran = false;
    await assert.rejects(
      withUnrolledD(st, [good, nan], (u) => criticStep(st, u.real, u.z, reducer, OPTS), async () => (ran = true), { computeMs: 0, allreduceMs: 0 }),
      /non-finite/,
    );
    assert.equal(ran, false);
    const after = parts(st);
    for (const k of Object.keys(before)) assert.ok(before[k].equals(after[k]), `${k} changed`);
  } finally {
    free([good, bad]);
    nan.real.dispose();
    disposeGan(st.gan);
  }
});
