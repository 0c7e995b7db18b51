// Tests for ensureGradients: the committed gradient module equals a fresh generation from the installed tfjs-core,
// and in a fresh Node process that imports tfjs-core the ordinary way, importing @gan/backend and calling
// ensureGradients fills the registry `import * as tf from '@tensorflow/tfjs-core'` reads (the global one), writing
// nothing under node_modules, so that tf.grad of conv2d, sum, mean, batchNorm and matMul+relu gives the analytic gradients.
// Run: node tools/run-tests.mjs libs/backend gradients
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GENERATED_DTS, GENERATED_JS, generateTfjsGradients } from './tfjs-gradients.gen';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..', '..');

test('the committed tfjs-gradients.generated.mjs and .d.mts equal a fresh generation', async () => {
  const { js, dts, tfjsVersion } = await generateTfjsGradients();
  const fix = 'regenerate them: node --import tsx libs/backend/src/tfjs-gradients.gen.ts';
  assert.ok(fs.readFileSync(GENERATED_JS, 'utf8') === js, `tfjs-gradients.generated.mjs is stale (installed tfjs-core ${tfjsVersion}): ${fix}`);
  assert.ok(fs.readFileSync(GENERATED_DTS, 'utf8') === dts, `tfjs-gradients.generated.d.mts is stale: ${fix}`);
});

// Runs in a child process. Float64 reference gradients are computed by loops over the same data.
const CHILD = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fs from 'node:fs';
const out = { writes: [] };
// Every file-system write under node_modules from here on is recorded (tsx caches its transforms in the OS temp dir).
for (const name of ['writeFileSync', 'writeFile', 'renameSync', 'rename', 'mkdirSync', 'mkdir', 'openSync', 'open', 'createWriteStream']) {
  const orig = fs[name];
  fs[name] = function (p, ...rest) {
    if (String(p).includes('node_modules') && !(name.startsWith('open') && (rest[0] ?? 'r') === 'r')) out.writes.push(name + ' ' + p);
    return orig.call(this, p, ...rest);
  };
}
for (const name of ['writeFile', 'rename', 'mkdir', 'open']) {
  const orig = fs.promises[name];
  fs.promises[name] = function (p, ...rest) {
    if (String(p).includes('node_modules') && !(name === 'open' && (rest[0] ?? 'r') === 'r')) out.writes.push('promises.' + name + ' ' + p);
    return orig.call(this, p, ...rest);
  };
}
out.before = tf.getGradient('Conv2D') != null;
const backend = await import(${JSON.stringify(pathToFileURL(path.join(HERE, 'index.ts')).href)});
const t0 = performance.now();
await Promise.all([backend.ensureGradients(), backend.ensureGradients()]);
out.loadMs = performance.now() - t0;
await backend.ensureGradients();
out.registered = backend.gradientsRegistered();
const gen = await import(${JSON.stringify(pathToFileURL(path.join(HERE, 'tfjs-gradients.generated.mjs')).href)});
const registry = globalThis._tfGlobals?.get('gradRegistry');
out.sameConfig = ['Conv2D', 'Tanh', 'FusedBatchNorm', 'BatchMatMul', 'Relu'].every((k) =>
  tf.getGradient(k) === gen.gradConfigs.find((c) => c.kernelName === k) && registry?.get(k) === tf.getGradient(k));
out.kernels = registry ? registry.size : -1;
await tf.setBackend('cpu');
let s = 7;
const rnd = (n) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
const maxErr = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const H = 5, C = 2, K = 3, O = 3;
{ // conv2d, 3x3, stride 1, 'same': loss = sum(conv(x, w) * dy)
  const x = rnd(H * H * C), w = rnd(K * K * C * O), dy = rnd(H * H * O);
  const [gx, gw] = tf.grads((xt, wt) => tf.sum(tf.mul(tf.conv2d(xt, wt, 1, 'same'), tf.tensor4d(dy, [1, H, H, O]))))(
    [tf.tensor4d(x, [1, H, H, C]), tf.tensor4d(w, [K, K, C, O])]);
  const rx = new Float64Array(x.length), rw = new Float64Array(w.length);
  for (let oh = 0; oh < H; oh++) for (let ow = 0; ow < H; ow++) for (let kh = 0; kh < K; kh++) for (let kw = 0; kw < K; kw++) {
    const ih = oh + kh - 1, iw = ow + kw - 1;
    if (ih < 0 || iw < 0 || ih >= H || iw >= H) continue;
    for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) {
      const d = dy[(oh * H + ow) * O + o];
      rw[((kh * K + kw) * C + c) * O + o] += x[(ih * H + iw) * C + c] * d;
      rx[(ih * H + iw) * C + c] += w[((kh * K + kw) * C + c) * O + o] * d;
    }
  }
  out.conv = Math.max(maxErr(gx.dataSync(), rx), maxErr(gw.dataSync(), rw));
}
{ // sum and mean over axis 1: loss = sum(sum(x, 1) * dy) + sum(mean(x, 1) * dy)
  const x = rnd(12), dy = rnd(3);
  const g = tf.grad((xt) => tf.add(tf.sum(tf.mul(tf.sum(xt, 1), tf.tensor1d(dy))), tf.sum(tf.mul(tf.mean(xt, 1), tf.tensor1d(dy)))))(tf.tensor2d(x, [3, 4]));
  out.sum = maxErr(g.dataSync(), Array.from({ length: 12 }, (_, i) => dy[Math.floor(i / 4)] * 1.25));
}
{ // batchNorm with fixed mean/variance (FusedBatchNorm): gradients wrt x, scale, offset
  const N = 8, x = rnd(N * C), dy = rnd(N * C), mean = [0.1, -0.2], variance = [0.5, 2], scale = [1.5, -0.7], eps = 1e-3;
  const [gx, gs, go] = tf.grads((xt, st, ot) => tf.sum(tf.mul(tf.batchNorm(xt, tf.tensor1d(mean), tf.tensor1d(variance), ot, st, eps), tf.tensor2d(dy, [N, C]))))(
    [tf.tensor2d(x, [N, C]), tf.tensor1d(scale), tf.tensor1d([0.3, 0.4])]);
  const rx = [], rs = [0, 0], ro = [0, 0];
  for (let i = 0; i < N * C; i++) {
    const c = i % C, inv = 1 / Math.sqrt(variance[c] + eps);
    rx.push(dy[i] * scale[c] * inv);
    rs[c] += dy[i] * (x[i] - mean[c]) * inv;
    ro[c] += dy[i];
  }
  out.batchNorm = Math.max(maxErr(gx.dataSync(), rx), maxErr(gs.dataSync(), rs), maxErr(go.dataSync(), ro));
}
{ // relu(matMul(a, b)): loss = sum(relu(a b) * dy)
  const a = rnd(6), b = rnd(6), dy = rnd(4);
  const [ga, gb] = tf.grads((at, bt) => tf.sum(tf.mul(tf.relu(tf.matMul(at, bt)), tf.tensor2d(dy, [2, 2]))))([tf.tensor2d(a, [2, 3]), tf.tensor2d(b, [3, 2])]);
  const ra = new Float64Array(6), rb = new Float64Array(6);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
    let y = 0;
    for (let k = 0; k < 3; k++) y += a[i * 3 + k] * b[k * 2 + j];
    if (y <= 0) continue;
    for (let k = 0; k < 3; k++) { ra[i * 3 + k] += dy[i * 2 + j] * b[k * 2 + j]; rb[k * 2 + j] += dy[i * 2 + j] * a[i * 3 + k]; }
  }
  out.matMulRelu = Math.max(maxErr(ga.dataSync(), ra), maxErr(gb.dataSync(), rb));
}
console.log(JSON.stringify(out));
`;

test('in a fresh process, ensureGradients fills the registry tfjs-core itself reads, and tf.grad is right', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.split('\n').findLast((l) => l.startsWith('{')) ?? '{}') as Record<string, number | boolean | string[]>;
  assert.equal(out.before, false, "tfjs-core's Node entry registers no gradients by itself (else this lib need not)");
  assert.equal(out.registered, true);
  assert.equal(out.sameConfig, true, 'tf.getGradient returns our configs, from the registry on globalThis');
  assert.ok((out.kernels as number) >= 100, `only ${out.kernels} gradients registered`);
  assert.deepEqual(out.writes, [], 'nothing is written under node_modules');
  for (const k of ['conv', 'sum', 'batchNorm', 'matMulRelu']) {
    assert.equal(typeof out[k], 'number', `${k} was not computed`);
    assert.ok((out[k] as number) < 1e-5, `${k}: max |tf.grad - reference| = ${out[k]}`);
  }
  // tfjs's warnings for a second registration of a kernel, gradient or platform: the copy of the ops must add none.
  assert.doesNotMatch(r.stderr, /Overriding|already been set|already registered/i, `unexpected warnings: ${r.stderr}`);
});
