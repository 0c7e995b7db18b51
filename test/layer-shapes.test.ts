/**
 * The document's DCGAN (imageSize 64, channels 3, nz 100, ngf 128, ndf 64, BatchNorm) at its EXACT layer shapes,
 * at batch 4 and 16, on every backend that loads, against float64 references written below in plain JS:
 *   - every G conv-transpose (convT4s2) and D conv (conv4s2) layer: the forward pass, and the input and weight
 *     gradients through tf.grads of sum(y·dy) with a fixed random dy, i.e. the product's customGrad path with the
 *     backend's Conv2DBackpropFilter (@gan/backend's on wasm, tfjs's own on cpu);
 *   - tf.sum and tf.mean over all axes but the last at every BatchNorm input shape (G bn0..bn3, D bn2..bn4), with
 *     data whose per-channel sums nearly cancel; each case also checks that a float32 running sum (what wasm's own
 *     Sum did) misses the tolerance by far on that data, so the case can fail;
 *   - the two linear layers (G fc 100→16384, D fc 8192→1) through tf.matMul: forward and both gradients.
 * Every tensor must satisfy max |ours − ref| ≤ tol · max |ref| (TOL, SUM_TOL below say which tol and why).
 * Why: small-shape kernel tests cannot see what only large shapes do (long accumulations; wasm's own Sum was off
 * by up to 90 % on near-cancelling BatchNorm sums at these sizes: libs/backend/src/wasm-reduce-kernels.ts).
 *
 * Backends: wasm (started by initBackend, so with @gan/backend's conv-gradient, GEMM and Sum/Mean kernels) and cpu
 * must load; wasm is covered in full at both batches, cpu's conv and linear layers (tfjs's own kernels) at batch 4. tensorflow and webgpu are covered the same way when they load
 * (webgpu is only probed where a GPU device node exists, or with GAN_WEBGPU_PROBE=1) and otherwise reported as one
 * skipped test each; the tolerances were measured on wasm and cpu only.
 * Data: a deterministic LCG (lcgArray). The batch-4 data are the first 4 samples of the batch-16 data, so one
 * batch-16 reference per layer serves both (the batch-4 weight gradient is its partial sum over those samples).
 * Time on the 2-core dev machine: ~1 minute for the whole file: ~26 s of float64 references, ~10 s wasm,
 * ~16 s cpu at batch 4 (tfjs-cpu's conv kernels are plain JS).
 *
 * Run: node tools/run-tests.mjs test layer-shapes
 */
import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { gpuDeviceNode, initBackend, wasmConvKernelsRegistered, wasmReduceKernelsRegistered } from '@gan/backend';
import { conv4s2, convT4s2 } from '@gan/model';
import { lcgArray } from './arrays';


/**
 * Relative tolerance of every conv / linear tensor (5× tighter than the project's gradient tolerance 1e-4). A
 * float32 sum of N terms is typically off by ~√N·2^-24 of its scale, ≈ 7.6e-6 for the longest sums here
 * (N = 16384: D conv1's weight gradient at batch 16, G fc's input gradient); the worst seen on wasm and cpu over
 * two data seeds was 4.3e-6 (wasm, D conv1 weight gradient), so 2e-5 leaves a margin of more than 4×.
 */
const TOL = 2e-5;
/**
 * Relative tolerance of the BatchNorm-style sums and means. The data are multiples of 2^-21..2^-23 with partial
 * sums below 2^16, so a float64 accumulation is exact and the only error is the final rounding to float32
 * (≤ 2^-24 ≈ 6e-8 of each entry; wasm and cpu are exact here); a float32 running sum is off by 2e-2 to 4e4.
 */
const SUM_TOL = 1e-6;
const SMALL = 4;
const BIG = 16; // the batch the references are computed at (SMALL's data are its first samples)
const BATCHES = [SMALL, BIG] as const;
const TEST_TIMEOUT_MS = 180_000; // far above the slowest case (cpu, batch 4, G deconv3: ~5 s)

/**
 * The batches each backend's conv and linear layers run at: tfjs-cpu's own plain-JS kernels only at the small one
 * (they are not the product's, and batch 16 took them ~62 s of this file); every other backend at both.
 */
function convBatches(b: Backend): readonly (typeof BATCHES)[number][] {
  return b === 'cpu' ? [SMALL] : BATCHES;
}

type Backend = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** Starts every backend that loads; wasm and cpu must. Returns the loaded ones and why the others did not load. */
async function loadBackends(): Promise<{ loaded: Backend[]; missing: [Backend, string][] }> {
  const loaded: Backend[] = [];
  const missing: [Backend, string][] = [];
  for (const b of ['tensorflow', 'webgpu'] as const) {
    if (b === 'webgpu' && !gpuDeviceNode() && process.env.GAN_WEBGPU_PROBE !== '1') {
      missing.push([b, 'no GPU device node (GAN_WEBGPU_PROBE=1 probes anyway)']);
      continue;
    }
    try {
      await initBackend(b);
      loaded.push(b);
    } catch (e) {
      missing.push([b, (e as Error).message.split('\n')[0]]);
    }
  }
  for (const b of ['wasm', 'cpu'] as const) {
    await initBackend(b); // must load: a failure fails the file
    loaded.push(b);
  }
  return { loaded, missing };
}

const { loaded: BACKENDS, missing } = await loadBackends();

for (const [b, why] of missing) it(`${b}: not loaded here`, { skip: why }, () => {});

it('wasm runs with @gan/backend conv-gradient and Sum/Mean kernels, cpu with its own filter gradient', () => {
  assert.ok(wasmConvKernelsRegistered(), 'our wasm Conv2DBackpropFilter/Input');
  assert.ok(wasmReduceKernelsRegistered(), 'our wasm Sum/Mean');
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'cpu'), 'cpu has a native filter gradient (the path tested on cpu)');
});

// ---------------------------------------------------------------------------------------------------------------
// Float64 references. Every sum is a dot product of two contiguous rows (operands transposed or gathered first).

function toF64(a: Float32Array): Float64Array {
  return Float64Array.from(a);
}

function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += a[ao + k] * b[bo + k];
    s1 += a[ao + k + 1] * b[bo + k + 1];
    s2 += a[ao + k + 2] * b[bo + k + 2];
    s3 += a[ao + k + 3] * b[bo + k + 3];
  }
  for (; k < n; k++) s0 += a[ao + k] * b[bo + k];
  return s0 + s1 + (s2 + s3);
}

/** [R, C] → [C, R]. */
function transpose2(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** A k4 filter [4,4,P,Q] → [4,4,Q,P]. */
function swapFilterChannels(w: Float64Array, p: number, q: number): Float64Array {
  const out = new Float64Array(w.length);
  for (let t = 0; t < 16; t++) out.set(transpose2(w.subarray(t * p * q, (t + 1) * p * q), p, q), t * p * q);
  return out;
}

interface Ref {
  y: Float64Array;
  dx: Float64Array;
  /** Weight gradient over the whole batch (BIG). */
  dw: Float64Array;
  /** Weight gradient over the first `split` (= SMALL) samples only. */
  dwSplit: Float64Array;
}

/**
 * The k4 s2 p1 connectivity: small-side position (n, i, j) of a [B,h,h,·] tensor meets big-side position
 * (n, 2i−1+a, 2j−1+b) of a [B,2h,2h,·] tensor through tap (a, b) when that is inside (outside: padding, skipped).
 * Calls fn(small position index, big position index, tap = 4a+b) for every such pair.
 */
function forEachTap(batch: number, h: number, fn: (smallPos: number, bigPos: number, tap: number) => void): void {
  const H = 2 * h;
  for (let n = 0; n < batch; n++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < h; j++)
        for (let a = 0; a < 4; a++) {
          const r = 2 * i - 1 + a;
          if (r < 0 || r >= H) continue;
          for (let b = 0; b < 4; b++) {
            const q = 2 * j - 1 + b;
            if (q < 0 || q >= H) continue;
            fn((n * h + i) * h + j, (n * H + r) * H + q, a * 4 + b);
          }
        }
}

/**
 * Gathers, for one tap, the big-side rows that meet each small-side position, transposed: [C, B·h·h], zeros where
 * the tap falls in the padding.
 */
function gatherTapT(big: Float64Array, c: number, batch: number, h: number, tap: number): Float64Array {
  const P = batch * h * h;
  const out = new Float64Array(c * P);
  const H = 2 * h;
  const a = tap >> 2;
  const b = tap & 3;
  for (let n = 0; n < batch; n++)
    for (let i = 0; i < h; i++) {
      const r = 2 * i - 1 + a;
      if (r < 0 || r >= H) continue;
      for (let j = 0; j < h; j++) {
        const q = 2 * j - 1 + b;
        if (q < 0 || q >= H) continue;
        const p = (n * h + i) * h + j;
        const src = ((n * H + r) * H + q) * c;
        for (let k = 0; k < c; k++) out[k * P + p] = big[src + k];
      }
    }
  return out;
}

/**
 * dW[tap, u, v] = Σ_p bigT_tap[u, p] · smallT[v, p] over the first `split` samples and over all of them.
 * bigC/smallC: channels of the big/small side; the result is [4,4,bigC,smallC].
 */
function filterGradRef(big: Float64Array, bigC: number, small: Float64Array, smallC: number, batch: number, h: number, split: number): [Float64Array, Float64Array] {
  const P = batch * h * h;
  const Ps = split * h * h;
  const smallT = transpose2(small, P, smallC);
  const dw = new Float64Array(16 * bigC * smallC);
  const dwSplit = new Float64Array(dw.length);
  for (let tap = 0; tap < 16; tap++) {
    const g = gatherTapT(big, bigC, batch, h, tap);
    for (let u = 0; u < bigC; u++)
      for (let v = 0; v < smallC; v++) {
        const head = dot(g, u * P, smallT, v * P, Ps);
        const o = (tap * bigC + u) * smallC + v;
        dwSplit[o] = head;
        dw[o] = head + dot(g, u * P + Ps, smallT, v * P + Ps, P - Ps);
      }
  }
  return [dw, dwSplit];
}

/**
 * conv4s2 (PyTorch Conv2d k4 s2 p1): x [B,H,H,ci] (big side), w [4,4,ci,co], y/dy [B,H/2,H/2,co] (small side).
 * y[n,i,j,o] = Σ_tap Σ_k x[n,2i−1+a,2j−1+b,k]·w[a,b,k,o].
 */
function convRef(x: Float64Array, w: Float64Array, dy: Float64Array, batch: number, H: number, ci: number, co: number, split: number): Ref {
  const h = H / 2;
  const wT = swapFilterChannels(w, ci, co); // [4,4,co,ci]
  const y = new Float64Array(batch * h * h * co);
  const dx = new Float64Array(x.length);
  forEachTap(batch, h, (sp, bp, tap) => {
    for (let o = 0; o < co; o++) y[sp * co + o] += dot(x, bp * ci, wT, (tap * co + o) * ci, ci);
    for (let k = 0; k < ci; k++) dx[bp * ci + k] += dot(dy, sp * co, w, (tap * ci + k) * co, co);
  });
  const [dw, dwSplit] = filterGradRef(x, ci, dy, co, batch, h, split); // [4,4,ci,co]
  return { y, dx, dw, dwSplit };
}

/**
 * convT4s2 (PyTorch ConvTranspose2d k4 s2 p1): x [B,h,h,ci] (small side), w [4,4,co,ci], y/dy [B,2h,2h,co] (big).
 * y[n,2i−1+a,2j−1+b,o] += Σ_k x[n,i,j,k]·w[a,b,o,k].
 */
function convTRef(x: Float64Array, w: Float64Array, dy: Float64Array, batch: number, h: number, ci: number, co: number, split: number): Ref {
  const H = 2 * h;
  const wT = swapFilterChannels(w, co, ci); // [4,4,ci,co]
  const y = new Float64Array(batch * H * H * co);
  const dx = new Float64Array(x.length);
  forEachTap(batch, h, (sp, bp, tap) => {
    for (let o = 0; o < co; o++) y[bp * co + o] += dot(x, sp * ci, w, (tap * co + o) * ci, ci);
    for (let k = 0; k < ci; k++) dx[sp * ci + k] += dot(dy, bp * co, wT, (tap * ci + k) * co, co);
  });
  const [dw, dwSplit] = filterGradRef(dy, co, x, ci, batch, h, split); // [4,4,co,ci]
  return { y, dx, dw, dwSplit };
}

/** y = x·w with x [B,K], w [K,O]; dx = dy·wᵀ; dw = xᵀ·dy. */
function linearRef(x: Float64Array, w: Float64Array, dy: Float64Array, batch: number, K: number, O: number, split: number): Ref {
  const wT = transpose2(w, K, O); // [O,K]
  const y = new Float64Array(batch * O);
  const dx = new Float64Array(batch * K);
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < O; o++) y[n * O + o] = dot(x, n * K, wT, o * K, K);
    for (let k = 0; k < K; k++) dx[n * K + k] = dot(dy, n * O, w, k * O, O);
  }
  const xT = transpose2(x, batch, K);
  const dyT = transpose2(dy, batch, O);
  const dw = new Float64Array(K * O);
  const dwSplit = new Float64Array(K * O);
  for (let k = 0; k < K; k++)
    for (let o = 0; o < O; o++) {
      const head = dot(xT, k * batch, dyT, o * batch, split);
      dwSplit[k * O + o] = head;
      dw[k * O + o] = head + dot(xT, k * batch + split, dyT, o * batch + split, batch - split);
    }
  return { y, dx, dw, dwSplit };
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison.

/** max |got − ref| / max |ref|. */
function relErr(got: ArrayLike<number>, ref: ArrayLike<number>, what: string): number {
  assert.equal(got.length, ref.length, `${what}: length`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(got[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  assert.ok(den > 0, `${what}: the reference is all zeros`);
  return num / den;
}

function checkAll(t: TestContext, got: Record<string, Float32Array>, want: Record<string, Float64Array>, tol: number, label: string): void {
  const errs = Object.keys(want).map((k) => [k, relErr(got[k], want[k], `${label} ${k}`)] as const);
  t.diagnostic(`${label}: rel. err ${errs.map(([k, e]) => `${k} ${e.toExponential(2)}`).join(', ')}`);
  for (const [k, e] of errs) assert.ok(e <= tol, `${label} ${k}: max|ours − ref| / max|ref| = ${e} > ${tol}`);
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Spreads small seed numbers apart: LCG streams from adjacent seeds start almost equal. */
const seedOf = (n: number): number => Math.imul(n + 1, 0x9e3779b1) >>> 0;

/**
 * Runs f on the active backend: y = f(x, w) and the gradients of sum(y·dy) w.r.t. x and w, in one tf.grads pass
 * (y is kept from inside it). Returns plain copies; every tensor is freed.
 */
function runOurs(
  f: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor,
  xv: Float32Array, xShape: number[], wv: Float32Array, wShape: number[], dyv: Float32Array, yShape: number[],
): Record<'y' | 'dx' | 'dw', Float32Array> {
  let y: tf.Tensor | undefined;
  // Tensors, never typed arrays, leave tf.tidy: it walks its result element by element.
  const [dx, dw] = tf.tidy(() => {
    const x = tf.tensor(xv, xShape);
    const w = tf.tensor(wv, wShape);
    const dy = tf.tensor(dyv, yShape);
    return tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      y = tf.keep(f(a, b));
      return tf.sum(tf.mul(y, dy));
    })([x, w]);
  });
  assert.ok(y, 'forward ran');
  assert.deepEqual(y.shape, yShape, 'output shape');
  const out = { y: (y.dataSync() as Float32Array).slice(), dx: (dx.dataSync() as Float32Array).slice(), dw: (dw.dataSync() as Float32Array).slice() };
  tf.dispose([y, dx, dw]);
  return out;
}

/** The batch-`batch` part of a reference computed at batch BIG (per-sample tensors are prefixes). */
function refAt(ref: Ref, batch: typeof SMALL | typeof BIG): Record<'y' | 'dx' | 'dw', Float64Array> {
  if (batch === BIG) return { y: ref.y, dx: ref.dx, dw: ref.dw };
  return { y: ref.y.subarray(0, (ref.y.length / BIG) * batch), dx: ref.dx.subarray(0, (ref.dx.length / BIG) * batch), dw: ref.dwSplit };
}

interface LayerCase {
  title: string;
  xShape: (b: number) => number[];
  wShape: number[];
  yShape: (b: number) => number[];
  f: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
  ref: (x: Float64Array, w: Float64Array, dy: Float64Array) => Ref;
  seed: number;
}

function convCase(net: 'G' | 'D', name: string, transpose: boolean, h: number, ci: number, co: number, seed: number): LayerCase {
  const ho = transpose ? 2 * h : h / 2;
  const op = transpose ? 'convT4s2' : 'conv4s2';
  return {
    title: `${net} ${name}: ${op} [B,${h},${h},${ci}] → [B,${ho},${ho},${co}]`,
    xShape: (b) => [b, h, h, ci],
    wShape: transpose ? [4, 4, co, ci] : [4, 4, ci, co],
    yShape: (b) => [b, ho, ho, co],
    f: transpose ? (x, w) => convT4s2(x as tf.Tensor4D, w as tf.Tensor4D) : (x, w) => conv4s2(x as tf.Tensor4D, w as tf.Tensor4D),
    ref: transpose
      ? (x, w, dy) => convTRef(x, w, dy, BIG, h, ci, co, SMALL)
      : (x, w, dy) => convRef(x, w, dy, BIG, h, ci, co, SMALL),
    seed,
  };
}

function linearCase(net: 'G' | 'D', K: number, O: number, seed: number): LayerCase {
  return {
    title: `${net} fc: matMul [B,${K}]·[${K},${O}]`,
    xShape: (b) => [b, K],
    wShape: [K, O],
    yShape: (b) => [b, O],
    f: (x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    ref: (x, w, dy) => linearRef(x, w, dy, BIG, K, O, SMALL),
    seed,
  };
}

const LAYERS: LayerCase[] = [
  linearCase('G', 100, 1024 * 4 * 4, 100),
  convCase('G', 'deconv1', true, 4, 1024, 512, 200),
  convCase('G', 'deconv2', true, 8, 512, 256, 300),
  convCase('G', 'deconv3', true, 16, 256, 128, 400),
  convCase('G', 'deconv4', true, 32, 128, 3, 500),
  convCase('D', 'conv1', false, 64, 3, 64, 600),
  convCase('D', 'conv2', false, 32, 64, 128, 700),
  convCase('D', 'conv3', false, 16, 128, 256, 800),
  convCase('D', 'conv4', false, 8, 256, 512, 900),
  linearCase('D', 512 * 4 * 4, 1, 1000),
];

for (const L of LAYERS) {
  describe(L.title, () => {
    // Batch-BIG data (the smaller batches use its first samples) and its reference, made on first use and
    // dropped after the layer's tests.
    let data: { xv: Float32Array; wv: Float32Array; dyv: Float32Array } | undefined;
    let ref: Ref | undefined;
    const getData = () =>
      (data ??= { xv: lcgArray(size(L.xShape(BIG)), seedOf(L.seed + 1)), wv: lcgArray(size(L.wShape), seedOf(L.seed + 2)), dyv: lcgArray(size(L.yShape(BIG)), seedOf(L.seed + 3)) });
    const reference = (): Ref => (ref ??= L.ref(toF64(getData().xv), toF64(getData().wv), toF64(getData().dyv)));
    after(() => {
      data = undefined;
      ref = undefined;
    });
    for (const b of BACKENDS) {
      for (const batch of convBatches(b)) {
        it(`${b}, batch ${batch}: forward, input and weight gradients vs float64`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
          assert.ok(await tf.setBackend(b), `tf.setBackend('${b}')`);
          const xs = L.xShape(batch);
          const ys = L.yShape(batch);
          const { xv, wv, dyv } = getData();
          const got = runOurs(L.f, xv.subarray(0, size(xs)), xs, wv, L.wShape, dyv.subarray(0, size(ys)), ys);
          checkAll(t, got, refAt(reference(), batch), TOL, `${b} B=${batch}`);
        });
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// BatchNorm-style reductions: sum and mean over every axis but the last.

/** Per-sample shapes of the BatchNorm inputs (G bn0..bn3, D bn2..bn4). */
const BN_SHAPES: [string, number[]][] = [
  ['G bn0', [1024 * 4 * 4]],
  ['G bn1', [8, 8, 512]],
  ['G bn2', [16, 16, 256]],
  ['G bn3', [32, 32, 128]],
  ['D bn2', [16, 16, 128]],
  ['D bn3', [8, 8, 256]],
  ['D bn4', [4, 4, 512]],
];

/**
 * [R, C] values whose per-column sums nearly cancel, like BatchNorm's Σ dy·x̂: each column is shifted to mean ≈ 0,
 * given an offset of +3 on its first half of rows and −3 on the second, and a residue of up to ±1e-5 on its first
 * row: the exact sums are ~1e-5 (rounding alone can leave them all exactly 0 at 4 or 16 rows), while a float32
 * running sum errs by up to the float32 spacing at its partial sums (which reach ~3·R/2).
 */
function cancellingColumns(rows: number, cols: number, seed: number): Float32Array {
  const v = lcgArray(rows * cols, seedOf(seed));
  const residue = lcgArray(cols, seedOf(seed + 1), -1e-5, 1e-5);
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += v[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  for (let r = 0; r < rows; r++) {
    const off = r < rows / 2 ? 3 : -3;
    for (let c = 0; c < cols; c++) v[r * cols + c] = v[r * cols + c] - mean[c] + off + (r === 0 ? residue[c] : 0); // rounds to float32
  }
  return v;
}

for (const [name, per] of BN_SHAPES) {
  describe(`${name}: tf.sum / tf.mean over [B,${per.join(',')}] but the last axis`, () => {
    for (const b of BACKENDS) {
      for (const batch of BATCHES) {
        it(`${b}, batch ${batch}: equal float64 where a float32 running sum does not`, async (t) => {
          assert.ok(await tf.setBackend(b), `tf.setBackend('${b}')`);
          const shape = [batch, ...per];
          const cols = per[per.length - 1];
          const rows = size(shape) / cols;
          const v = cancellingColumns(rows, cols, rows + cols);
          const exact = new Float64Array(cols);
          const running = new Float32Array(cols); // wasm's old Sum: one float32 accumulator per column, in row order
          for (let r = 0; r < rows; r++)
            for (let c = 0; c < cols; c++) {
              exact[c] += v[r * cols + c];
              running[c] += v[r * cols + c];
            }
          const axes = shape.slice(0, -1).map((_, i) => i);
          const [sum, mean] = tf.tidy(() => {
            const x = tf.tensor(v, shape);
            return [tf.sum(x, axes), tf.mean(x, axes)];
          });
          const got = { sum: (sum.dataSync() as Float32Array).slice(), mean: (mean.dataSync() as Float32Array).slice() };
          tf.dispose([sum, mean]);
          const float32Err = relErr(running, exact, 'float32 running sum');
          t.diagnostic(`float32 running sum: rel. err ${float32Err.toExponential(2)}`);
          assert.ok(float32Err > 100 * SUM_TOL, `the data must defeat a float32 running sum (rel. err ${float32Err})`);
          checkAll(t, got, { sum: exact, mean: exact.map((s) => s / rows) }, SUM_TOL, `${b} B=${batch}`);
        });
      }
    }
  });
}
