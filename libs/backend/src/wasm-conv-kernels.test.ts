// Tests the wasm Conv2DBackpropFilter / Conv2DBackpropInput kernels against the cpu backend on small random shapes
// (rel. error ≤ 1e-4), through raw kernels and through tf.grad, plus leak and bad-attribute checks.
// Run: node tools/run-tests.mjs libs/backend wasm-conv
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index';
import { convByGemm, preferGemmConv } from './wasm-conv2d-kernel';
import { inputGradientByGemm, preferGemmInputGradient } from './wasm-conv-input-gemm';
import type { WasmBackendLike } from './wasm-kernel-call';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const P1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];

/** [x shape NHWC, filter shape [kh,kw,Ci,Co], stride, pad]: the DCGAN's k4 s2 p1 plus odd sizes and stride 1. */
const CASES: [[number, number, number, number], [number, number, number, number], number, Pad][] = [
  [[2, 8, 8, 3], [4, 4, 3, 5], 2, P1],
  [[2, 8, 8, 3], [4, 4, 3, 5], 2, 'same'],
  [[2, 9, 7, 3], [4, 4, 3, 2], 2, P1],
  [[3, 7, 9, 2], [3, 3, 2, 4], 1, 'same'],
  [[2, 6, 6, 4], [3, 3, 4, 2], 1, P1],
  [[2, 6, 6, 3], [3, 3, 3, 2], 2, 'same'],
  [[2, 5, 5, 2], [2, 2, 2, 3], 2, 'valid'], // the last row/column of x is never read: negative pad → crop path
  [[1, 4, 4, 8], [4, 4, 8, 6], 1, 'valid'], // G's first layer shape: 1×1 → 4×4 when seen as a transpose
  [[2, 8, 8, 16], [4, 4, 16, 8], 2, P1], // 16+ input channels: the phases are interleaved a pixel at a time
  [[2, 7, 6, 3], [1, 1, 3, 4], 2, 'valid'], // a 1×1 filter at stride 2: three of the four phases meet no tap (zeros)
  [[1, 9, 9, 2], [5, 5, 2, 3], 3, [[0, 0], [2, 2], [1, 1], [0, 0]]], // stride 3: nine phases of unequal sizes
];

/** max |a-b| / max |a|: a relative error that does not blow up on entries near zero. */
function relErr(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]));
  }
  return den === 0 ? num : num / den;
}

function randomArray(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array).slice();
}

/** Runs fn on a backend and returns its outputs as plain arrays (tensors created inside are freed). */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const vals = outs.map((t) => (t.dataSync() as Float32Array).slice());
  tf.dispose(outs);
  return vals;
}

before(async () => {
  await initBackend('cpu'); // registers cpu and the gradients
  await initBackend('wasm'); // registers our wasm kernels
});

test('raw kernels: filter and input gradients match cpu', async () => {
  for (const [xs, fs, s, pad] of CASES) {
    const outShape = tf.tidy(() => tf.conv2d(tf.zeros(xs) as tf.Tensor4D, tf.zeros(fs) as tf.Tensor4D, s, pad).shape);
    const xv = randomArray(xs, 1);
    const fv = randomArray(fs, 2);
    const dyv = randomArray(outShape, 3);
    const run = () => {
      const x = tf.tensor4d(xv, xs);
      const f = tf.tensor4d(fv, fs);
      const dy = tf.tensor4d(dyv, outShape);
      // The ops are not exported by tfjs-core, so run the kernels directly with the attrs the conv2d gradient uses.
      const attrs = { strides: s, pad, dataFormat: 'NHWC' };
      return [
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: fs }),
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: xs }),
      ] as tf.Tensor[];
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    const label = `x ${xs} f ${fs} s ${s} pad ${JSON.stringify(pad)}`;
    assert.ok(relErr(cpu[0], wasm[0]) <= 1e-4, `filter gradient ${label}: rel err ${relErr(cpu[0], wasm[0])}`);
    assert.ok(relErr(cpu[1], wasm[1]) <= 1e-4, `input gradient ${label}: rel err ${relErr(cpu[1], wasm[1])}`);
  }
});

test('tf.grad through conv2d and conv2dTranspose, and conv2dTranspose forward, match cpu', async () => {
  for (const [xs, fs, s, pad] of CASES) {
    // conv2dTranspose takes 'same' | 'valid' | number, so the symmetric explicit pad 1 is passed as the number 1.
    const tPad = Array.isArray(pad) ? pad[1][0] : pad;
    const outShape = tf.tidy(() => tf.conv2d(tf.zeros(xs) as tf.Tensor4D, tf.zeros(fs) as tf.Tensor4D, s, pad).shape);
    const xv = randomArray(xs, 4);
    const fv = randomArray(fs, 5);
    const dyv = randomArray(outShape, 6);
    const run = () => {
      const x = tf.tensor4d(xv, xs);
      const f = tf.tensor4d(fv, fs);
      const w = tf.tensor4d(dyv, outShape); // weights of the loss, so gradients are not all-ones
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), w)))([x, f]);
      const yT = tf.conv2dTranspose(w, f, xs, s, tPad);
      const [gTin, gTf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, xs, s, tPad), x)))([w, f]);
      return [gx, gf, yT, gTin, gTf];
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    const names = ['conv2d dx', 'conv2d dW', 'conv2dTranspose forward', 'conv2dTranspose d(input)', 'conv2dTranspose dW'];
    names.forEach((n, i) => {
      const e = relErr(cpu[i], wasm[i]);
      assert.ok(e <= 1e-4, `${n} x ${xs} f ${fs} s ${s} pad ${JSON.stringify(pad)}: rel err ${e}`);
    });
  }
});

test('the GEMM route of the input gradient (filter as the left operand, then col2im) matches cpu on every case', async () => {
  for (const [xs, fs, s, pad] of CASES) {
    const info = tf.backend_util.computeConv2DInfo(xs, fs, s, 1, pad);
    const dyv = randomArray(info.outShape, 7);
    const fv = randomArray(fs, 8);
    const [want] = await on('cpu', () => [
      tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dyv, info.outShape), filter: tf.tensor4d(fv, fs) }, { strides: s, pad, dataFormat: 'NHWC', inputShape: xs }) as tf.Tensor,
    ]);
    const [got] = await on('wasm', () => {
      const dy = tf.tensor4d(dyv, info.outShape);
      const f = tf.tensor4d(fv, fs);
      return [tf.engine().makeTensorFromTensorInfo(inputGradientByGemm(tf.backend() as unknown as WasmBackendLike, dy, f, info))];
    });
    const e = relErr(want, got);
    assert.ok(e <= 1e-4, `x ${xs} f ${fs} s ${s} pad ${JSON.stringify(pad)}: rel err ${e}`);
  }
  // The route is for filters that are large next to the pixels they meet: G's first layer of the default DCGAN at
  // batch 16 (256 dy pixels, 1024 channels) takes it; the same layer at 32×32 (4096 pixels) keeps the sub-filters.
  assert.ok(preferGemmInputGradient(tf.backend_util.computeConv2DInfo([16, 8, 8, 512], [4, 4, 512, 1024], 2, 1, 1)));
  assert.ok(!preferGemmInputGradient(tf.backend_util.computeConv2DInfo([16, 32, 32, 512], [4, 4, 512, 1024], 2, 1, 1)));
});

test('the GEMM route of Conv2D (filter transposed as the left operand, im2col columns packed) matches cpu on every case', async () => {
  for (const [xs, fs, s, pad] of CASES) {
    const info = tf.backend_util.computeConv2DInfo(xs, fs, s, 1, pad);
    const xv = randomArray(xs, 9);
    const fv = randomArray(fs, 10);
    const [want] = await on('cpu', () => [tf.conv2d(tf.tensor4d(xv, xs), tf.tensor4d(fv, fs), s, pad)]);
    const [got] = await on('wasm', () => {
      const out = convByGemm(tf.backend() as unknown as WasmBackendLike, tf.tensor4d(xv, xs), tf.tensor4d(fv, fs), info);
      return [tf.engine().makeTensorFromTensorInfo(out)];
    });
    const e = relErr(want, got);
    assert.ok(e <= 1e-4, `x ${xs} f ${fs} s ${s} pad ${JSON.stringify(pad)}: rel err ${e}`);
  }
  // D's last conv of the default DCGAN at batch 16 (256 output pixels, 512 channels) takes it; its first does not.
  assert.ok(preferGemmConv(tf.backend_util.computeConv2DInfo([16, 8, 8, 256], [4, 4, 256, 512], 2, 1, 1)));
  assert.ok(!preferGemmConv(tf.backend_util.computeConv2DInfo([16, 64, 64, 3], [4, 4, 3, 64], 2, 1, 1)));
});

test('kernels leak no tensors and no wasm data ids', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
  const f = tf.randomNormal([4, 4, 3, 5]) as tf.Tensor4D;
  const step = () => tf.tidy(() => {
    const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2dTranspose(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 1), b as tf.Tensor4D, [2, 8, 8, 3], 2, 1)))([x, f]);
    return tf.add(tf.sum(gx), tf.sum(gf));
  });
  step().dispose(); // warm-up: first calls may allocate lasting backend state
  const tensors = tf.memory().numTensors;
  const ids = backend.numDataIds();
  for (let i = 0; i < 3; i++) step().dispose();
  assert.equal(tf.memory().numTensors, tensors, 'numTensors stays flat');
  assert.equal(backend.numDataIds(), ids, 'backend.numDataIds stays flat');
  tf.dispose([x, f]);
});

test('an input gradient reuses the sub-filters of a live filter and releases those of a disposed one', async () => {
  const xv = randomArray([2, 4, 4, 6], 3);
  const f1v = randomArray([4, 4, 3, 6], 4);
  const f2v = randomArray([4, 4, 3, 6], 5);
  const deconv = (x: tf.Tensor, f: tf.Tensor) => tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, [2, 8, 8, 3], 2, 1);
  const [want2] = await on('cpu', () => [deconv(tf.tensor(xv, [2, 4, 4, 6]), tf.tensor(f2v, [4, 4, 3, 6]))]);
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const x = tf.tensor(xv, [2, 4, 4, 6]);
  const f1 = tf.tensor(f1v, [4, 4, 3, 6]);
  const f2 = tf.tensor(f2v, [4, 4, 3, 6]);
  const read = (f: tf.Tensor) => tf.tidy(() => deconv(x, f).dataSync() as Float32Array).slice();
  const first = read(f1);
  const withF1 = backend.numDataIds();
  const got2 = read(f2);
  const subs = backend.numDataIds() - withF1;
  assert.ok(subs > 0, 'a second live filter gets sub-filters of its own');
  assert.ok(relErr(want2, got2) <= 1e-4, "a new filter is not served another one's sub-filters");
  assert.deepEqual(read(f1), first, 'a call with a filter seen before gives the same values');
  assert.equal(backend.numDataIds(), withF1 + subs, 'and makes no new sub-filters');
  f1.dispose();
  assert.ok(relErr(want2, read(f2)) <= 1e-4);
  assert.equal(backend.numDataIds(), withF1 - 1, "f1's sub-filters are released at the first call after it is gone");
  tf.dispose([x, f2]);
});

test('unsupported attributes fail clearly instead of computing wrong values', async () => {
  await tf.setBackend('wasm');
  const x = tf.zeros([1, 3, 8, 8]);
  const dy = tf.zeros([1, 5, 4, 4]);
  const f = tf.zeros([4, 4, 3, 5]);
  assert.throws(
    () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 1, dataFormat: 'NCHW', filterShape: [4, 4, 3, 5] }),
    /Conv2DBackpropFilter: dataFormat 'NCHW' is not supported/,
  );
  assert.throws(
    () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { strides: 2, pad: 1, dataFormat: 'NCHW', inputShape: [1, 3, 8, 8] }),
    /Conv2DBackpropInput: dataFormat 'NCHW' is not supported/,
  );
  const dyWrong = tf.zeros([1, 3, 3, 5]);
  assert.throws(
    () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dyWrong, filter: f }, { strides: 2, pad: 1, dataFormat: 'NHWC', inputShape: [1, 8, 8, 3] }),
    /dy shape \[1,3,3,5\] does not match \[1,4,4,5\]/,
  );
  tf.dispose([x, dy, f, dyWrong]);
});
