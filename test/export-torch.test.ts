/**
 * `gan-train export --format torch` end to end: real runs trained by the CLI (the document's 3×64×64 DCGAN, a
 * 28×28 one whose first feature map is 7×7, the same with --spectral-norm, and the MLP), exported by the CLI,
 * loaded by PyTorch into test/torch/gan_torch.py's GAN with one strict load_state_dict (test/torch/forward.py), which
 * must reproduce the product's G(z) and D(x) on the same inputs. Also the export's metadata and its refusals of bad
 * arguments.
 * Needs a Python with torch for the PyTorch half (skips loudly without one; fails in CI).
 * Run: node tools/run-tests.mjs test export-torch
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gan/backend';
import { discriminate, disposeGan, generate } from '@gan/model';
import { readSafetensors, writeSafetensors } from '@gan/checkpoint';
import { batchNoise, loadRun } from '@gan/training';
import { killAll, runCli, tmpDir } from './helpers';
import { requireTorch, runTorchScript } from './torch-python';
import { lcgArray, nhwcToNchw } from './arrays';

/** G(z) and D(x) from PyTorch vs ours: max |diff| ≤ this · max |ours| (float32 forward passes on both sides). */
const FORWARD_TOL = 1e-4;

const dir = tmpDir('export-torch');
after(() => {
  killAll();
  fs.rmSync(dir, { recursive: true, force: true });
});
before(async () => {
  await initBackend('wasm');
});

const quiet = () => ({ level: 'warn' }) as const;
const log = { info: quiet, warn: quiet, error: quiet, debug: quiet };

const RUNS: { name: string; args: string[] }[] = [
  { name: 'dcgan64', args: ['--dataset', 'shapes', '--batch-size', '4', '--steps', '1'] },
  { name: 'dcgan28', args: ['--dataset', 'shapes', '--image-size', '28', '--channels', '1', '--nz', '16', '--ngf', '8', '--ndf', '8', '--batch-size', '4', '--steps', '3'] },
  { name: 'mlp', args: ['--model', 'mlp', '--dataset', 'ring8', '--mlp-hidden', '32', '--batch-size', '64', '--steps', '5'] },
  // Spectral norm: `weight_orig`, `weight_u`, `weight_v` load into torch.nn.utils.spectral_norm's modules, and
  // PyTorch's train-mode forward (one power-iteration step from the saved u) is our discriminate's.
  { name: 'dcgan28 spectral norm', args: ['--dataset', 'shapes', '--image-size', '28', '--channels', '1', '--nz', '16', '--ngf', '8', '--ndf', '8', '--batch-size', '4', '--steps', '3', '--spectral-norm', '--loss', 'hinge'] },
];

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

for (const run of RUNS) {
  test(`export --format torch loads into PyTorch and reproduces G(z) and D(x): ${run.name}`, { timeout: 600_000 }, async (t) => {
    const out = path.join(dir, run.name);
    const trained = await runCli(['train', ...run.args, '--backend', 'wasm', '--out', out, '--sample-every', '0'], { timeoutMs: 300_000 });
    assert.equal(trained.code, 0, trained.stderr.slice(-2000));
    const file = path.join(dir, `${run.name}.safetensors`);
    const exported = await runCli(['export', '--run', out, '--format', 'torch', '--out', file], { timeoutMs: 120_000 });
    assert.equal(exported.code, 0, exported.stderr.slice(-2000));
    const summary = JSON.parse(exported.stdout.trim().split('\n').at(-1)!);
    assert.equal(summary.path, file);

    const { st, config } = await loadRun(out, log);
    try {
      const saved = await readSafetensors(file, { requireChecksum: true });
      assert.equal(saved.metadata.format, 'pytorch-state-dict');
      assert.equal(Number(saved.metadata.step), st.step);
      assert.equal(JSON.parse(saved.metadata.config).ngf, config.ngf);
      const batches = [...saved.tensors].filter(([n]) => n.endsWith('.num_batches_tracked'));
      for (const [n, v] of batches) {
        assert.equal(v.dtype, 'I64', n);
        assert.equal((v.data as BigInt64Array)[0], BigInt(n.startsWith('g.') ? st.step : 3 * st.step), n);
      }
      assert.equal(batches.length > 0, config.model === 'dcgan' && config.norm === 'batch');

      if (!requireTorch(t)) return;
      const b = 6;
      const z = batchNoise(123, 0, 0, b, config.nz);
      const shape = config.model === 'mlp' ? [2] : [config.imageSize, config.imageSize, config.channels];
      const x = lcgArray(b * shape.reduce((p, q) => p * q, 1), 99);
      const zt = tf.tensor2d(z, [b, config.nz]);
      const xt = tf.tensor(x, [b, ...shape]);
      const gzOurs = generate(st.gan, zt);
      const dxOurs = discriminate(st.gan, xt);
      tf.dispose([zt, xt]);
      const [h, w, c] = shape;
      const image = config.model !== 'mlp';
      const inputs = path.join(dir, `${run.name}.inputs.safetensors`);
      await writeSafetensors(inputs, [
        { name: 'z', dtype: 'F32', shape: [b, config.nz], data: z },
        { name: 'x', dtype: 'F32', shape: image ? [b, c, h, w] : [b, 2], data: image ? nhwcToNchw(x, b, h, w, c) : x },
      ]);
      const result = path.join(dir, `${run.name}.torch-out.safetensors`);
      runTorchScript('forward.py', [file, inputs, result], 300_000);
      const r = (await readSafetensors(result)).tensors;
      const gz = r.get('gz')!.data as Float32Array;
      const dx = r.get('dx')!.data as Float32Array;
      const gzWant = image ? nhwcToNchw(gzOurs, b, h, w, c) : gzOurs;
      let dg = 0;
      for (let i = 0; i < gz.length; i++) dg = Math.max(dg, Math.abs(gz[i] - gzWant[i]));
      let dd = 0;
      for (let i = 0; i < dx.length; i++) dd = Math.max(dd, Math.abs(dx[i] - dxOurs[i]));
      process.stderr.write(`# ${run.name} (step ${st.step}): PyTorch vs ours G(z) max diff ${dg.toExponential(2)} of ${maxAbs(gzWant).toExponential(2)}, D(x) ${dd.toExponential(2)} of ${maxAbs(dxOurs).toExponential(2)}\n`);
      assert.equal(gz.length, gzWant.length);
      assert.equal(dx.length, b);
      assert.ok(dg <= FORWARD_TOL * maxAbs(gzWant), `G(z): max diff ${dg}`);
      assert.ok(dd <= FORWARD_TOL * maxAbs(dxOurs), `D(x): max diff ${dd}`);
    } finally {
      disposeGan(st.gan);
    }
  });
}

test('export refuses an unknown format and a missing run with one line each', { timeout: 120_000 }, async () => {
  const out = path.join(dir, 'mlp');
  // stderr is pino's log lines, then the one error line last.
  const lastLine = (s: string) => s.trim().split('\n').at(-1)!;
  const bad = await runCli(['export', '--run', out, '--format', 'onnx'], { timeoutMs: 60_000 });
  assert.notEqual(bad.code, 0);
  assert.match(lastLine(bad.stderr), /^gan-train: error: --format must be one of torch, got "onnx"$/);
  const missing = await runCli(['export', '--run', path.join(dir, 'nope'), '--format', 'torch'], { timeoutMs: 60_000 });
  assert.notEqual(missing.code, 0);
  assert.match(lastLine(missing.stderr), /^gan-train: error: run directory .*nope does not exist$/);
  const noRun = await runCli(['export', '--format', 'torch'], { timeoutMs: 60_000 });
  assert.notEqual(noRun.code, 0);
  assert.match(lastLine(noRun.stderr), /^gan-train: error: export needs --run DIR/);
  for (const r of [bad, missing, noRun]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
