/**
 * Spectral normalization (spectral-norm.ts): buffers named and shaped as PyTorch's, drawn from the seed's own stream
 * (D's weights unchanged by it), one power-iteration step per D forward (so after power iteration σ approaches the
 * largest singular value, checked against a float64 power method run to convergence), the gradient
 * against finite differences of the spectrally normalized loss (u and v held fixed, σ not), and the number of
 * power-iteration steps per phase (one per D forward). Against torch.nn.utils.spectral_norm itself: test/torch-reference.test.ts.
 * Run: node tools/run-tests.mjs libs/model spectral-norm
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from './tf';
import {
  buildGan, dGradients, discriminate, disposeGan, getFlatBuffers, getFlatWeights, gGradients, namedBuffers, sampleNoise,
} from './index';
import { spectralWeight } from './spectral-norm';
import { lcgArray, sameBytes, tinyDcgan, tinyMlp, useCpu } from './test-helpers';

before(useCpu);

/** Largest singular value of an [rows, cols] row-major matrix by a float64 power method run to convergence. */
function sigmaMax(m: Float64Array, rows: number, cols: number): number {
  let v = new Float64Array(cols).fill(1);
  let s = 0;
  for (let it = 0; it < 2000; it++) {
    const u = new Float64Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) u[r] += m[r * cols + c] * v[c];
    const nv = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) nv[c] += m[r * cols + c] * u[r];
    const norm = Math.hypot(...nv);
    s = Math.sqrt(norm);
    v = nv.map((x) => x / norm);
  }
  return s;
}

describe('spectral norm', () => {
  it('adds weight_u [out] and weight_v [rest] per D conv/linear, leaves G and D\'s weights as without it', () => {
    const plain = buildGan(tinyDcgan({ norm: 'none' }), 5);
    const sn = buildGan(tinyDcgan({ norm: 'none', spectralNorm: true }), 5);
    try {
      assert.deepEqual(namedBuffers(sn.g), []);
      assert.deepEqual(namedBuffers(sn.d).map((b) => `${b.name} [${b.shape}]`), [
        'd.conv1.weight_u [4]', 'd.conv1.weight_v [16]', 'd.conv2.weight_u [8]', 'd.conv2.weight_v [64]',
        'd.conv3.weight_u [16]', 'd.conv3.weight_v [128]', 'd.fc.weight_u [1]', 'd.fc.weight_v [256]',
      ]);
      for (const b of namedBuffers(sn.d)) assert.ok(Math.abs(Math.hypot(...b.data) - 1) < 1e-6, `${b.name} is a unit vector`);
      assert.ok(sameBytes(getFlatWeights(plain.d), getFlatWeights(sn.d)));
      assert.ok(sameBytes(getFlatWeights(plain.g), getFlatWeights(sn.g)));
      const again = buildGan(tinyDcgan({ norm: 'none', spectralNorm: true }), 5);
      assert.ok(sameBytes(getFlatBuffers(again.d), getFlatBuffers(sn.d)), 'same seed, same u and v');
      disposeGan(again);
    } finally {
      disposeGan(plain);
      disposeGan(sn);
    }
  });

  it('each D forward of a step moves u once; repeated steps drive σ to the largest singular value', () => {
    const gan = buildGan(tinyMlp({ spectralNorm: true }), 7);
    const real = tf.tensor2d(lcgArray(32, 1), [16, 2]);
    const z = sampleNoise(16, 4, 3);
    try {
      const u0 = getFlatBuffers(gan.d);
      dGradients(gan, real, z, { loss: 'hinge' });
      const u1 = getFlatBuffers(gan.d);
      assert.ok(!sameBytes(u0, u1), 'a D phase moves u');
      // D's fc2 ([8, 8] here): 2 forwards a phase, so 200 phases are 400 power-iteration steps with fixed weights.
      for (let i = 0; i < 200; i++) dGradients(gan, real, z, { loss: 'hinge' });
      const w = getFlatWeights(gan.d);
      // Flat order: fc1.weight [2,8], fc1.bias [8], fc2.weight [8,8] (ours [in,out] = PyTorch's Wᵀ).
      const fc2 = Float64Array.from(w.subarray(24, 88));
      const want = sigmaMax(fc2, 8, 8);
      const b = namedBuffers(gan.d);
      const u = b.find((x) => x.name === 'd.fc2.weight_u')!.data;
      const v = b.find((x) => x.name === 'd.fc2.weight_v')!.data;
      // σ = uᵀ W v (PyTorch's W [out, in] = ours transposed: W[o][i] = ours[i·8 + o]).
      let sigma = 0;
      for (let o = 0; o < 8; o++) for (let i = 0; i < 8; i++) sigma += u[o] * fc2[i * 8 + o] * v[i];
      assert.ok(Math.abs(sigma - want) < 1e-4 * want, `σ ${sigma}, largest singular value ${want}`);
      // discriminate (no pending writes) leaves the vectors as they are.
      const before = getFlatBuffers(gan.d);
      discriminate(gan, real);
      assert.ok(sameBytes(before, getFlatBuffers(gan.d)));
    } finally {
      real.dispose();
      z.dispose();
      disposeGan(gan);
    }
  });

  it('the gradient is that of W/σ(W) with u and v constant (σ = uᵀWv differentiated), by central differences', () => {
    const w = tf.variable(tf.tensor2d(lcgArray(12, 11), [4, 3]));
    const sn = { u: tf.variable(tf.tensor1d(lcgArray(3, 12)), false), v: tf.variable(tf.tensor1d(lcgArray(4, 13)), false) };
    const x = tf.tensor2d(lcgArray(8, 14), [2, 4]);
    const probe = tf.tensor2d(lcgArray(6, 15), [2, 3]);
    try {
      // The loss a forward with pending writes differentiates; u, v as the power iteration leaves them.
      const loss = (): tf.Scalar => tf.sum(tf.mul(tf.matMul(x, spectralWeight(w, sn, []) as tf.Tensor2D), probe));
      const { grads } = tf.variableGrads(loss, [w]);
      const got = grads[w.name].dataSync();
      // Finite differences of W/σ with σ = uᵀWv for the u and v one power step from the stored u (fixed).
      const w0 = Float64Array.from(w.dataSync());
      const u0 = Float64Array.from(sn.u.dataSync());
      const at = (m: Float64Array, o: number, i: number) => m[i * 3 + o]; // PyTorch W[o][i], ours [in=4, out=3]
      let v = new Float64Array(4);
      for (let i = 0; i < 4; i++) for (let o = 0; o < 3; o++) v[i] += at(w0, o, i) * u0[o];
      v = v.map((e, _, a) => e / Math.hypot(...a));
      let u = new Float64Array(3);
      for (let o = 0; o < 3; o++) for (let i = 0; i < 4; i++) u[o] += at(w0, o, i) * v[i];
      u = u.map((e, _, a) => e / Math.hypot(...a));
      const xs = x.dataSync();
      const ps = probe.dataSync();
      const f = (m: Float64Array): number => {
        let sigma = 0;
        for (let o = 0; o < 3; o++) for (let i = 0; i < 4; i++) sigma += u[o] * at(m, o, i) * v[i];
        let s = 0;
        for (let b = 0; b < 2; b++) for (let o = 0; o < 3; o++) {
          let y = 0;
          for (let i = 0; i < 4; i++) y += xs[b * 4 + i] * at(m, o, i);
          s += (y / sigma) * ps[b * 3 + o];
        }
        return s;
      };
      const h = 1e-6;
      for (let k = 0; k < 12; k++) {
        const p = w0.slice();
        const q = w0.slice();
        p[k] += h;
        q[k] -= h;
        const fd = (f(p) - f(q)) / (2 * h);
        assert.ok(Math.abs(got[k] - fd) < 1e-3 * Math.max(1, Math.abs(fd)), `∂/∂w[${k}]: ours ${got[k]}, finite differences ${fd}`);
      }
      tf.dispose(Object.values(grads));
    } finally {
      tf.dispose([w, sn.u, sn.v, x, probe]);
    }
  });

  it('a D phase is two power-iteration steps (D(real), D(fake)), a G phase one, as PyTorch\'s forwards', () => {
    const gan = buildGan(tinyMlp({ spectralNorm: true }), 8);
    const real = tf.tensor2d(lcgArray(32, 1), [16, 2]);
    const z = sampleNoise(16, 4, 3);
    try {
      // D's fc1: ours [in=2, out=8]; PyTorch's W [8, 2], W[o][i] = ours[i·8 + o].
      const w = Float64Array.from(getFlatWeights(gan.d).subarray(0, 16));
      const unit = (a: Float64Array) => a.map((e) => e / Math.hypot(...a));
      const iterate = (u: Float64Array, times: number): Float64Array => {
        for (let t = 0; t < times; t++) {
          const v = new Float64Array(2);
          for (let i = 0; i < 2; i++) for (let o = 0; o < 8; o++) v[i] += w[i * 8 + o] * u[o];
          const nu = new Float64Array(8);
          for (let o = 0; o < 8; o++) for (let i = 0; i < 2; i++) nu[o] += w[i * 8 + o] * unit(v)[i];
          u = unit(nu);
        }
        return u;
      };
      const u = () => namedBuffers(gan.d).find((b) => b.name === 'd.fc1.weight_u')!.data;
      const u0 = Float64Array.from(u());
      dGradients(gan, real, z, { loss: 'hinge' });
      const close = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((x, i) => Math.abs(x - b[i]) < 1e-5);
      assert.ok(close(u(), iterate(u0, 2)), `after a D phase: ${u()} vs two steps ${iterate(u0, 2)}`);
      assert.ok(!close(u(), iterate(u0, 1)) && !close(u(), iterate(u0, 3)), 'the test tells one, two and three steps apart');
      gGradients(gan, z, { loss: 'hinge' });
      assert.ok(close(u(), iterate(u0, 3)), 'after the G phase: three steps (weights unchanged: no optimiser here)');
    } finally {
      real.dispose();
      z.dispose();
      disposeGan(gan);
    }
  });
});
