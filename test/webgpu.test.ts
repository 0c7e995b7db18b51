// WebGPU end to end on whatever adapter this machine has (in CI, Mesa's software Vulkan driver lavapipe, which
// .ci/run installs with tools/lavapipe.sh): `gan-train train --backend webgpu` for the tiny DCGAN and the MLP, step
// by step against the same run on wasm, and `gan-train local --workers 2 --backend webgpu` (both workers on one
// adapter, replicas hash-checked every step), and `gan-train eval` of an image run and an MLP run on webgpu against
// wasm. The product reads the GPU only asynchronously: webgpu under Node
// cannot read synchronously (tfjs-backend-webgpu's readSync needs a browser's OffscreenCanvas).
// Skips with a message when no adapter exists. Run: node tools/run-tests.mjs test webgpu
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readMetrics } from '@gan/telemetry';
import { killAll, ROOT, runCli, tmpDir, TINY_DCGAN } from './helpers';

let noAdapter: string | null = null;

before(async () => {
  try {
    const webgpu = (await import('webgpu')) as unknown as { create(flags: string[]): { requestAdapter(): Promise<object | null> } };
    if (!(await webgpu.create([]).requestAdapter())) noAdapter = 'no WebGPU adapter on this machine (install lavapipe: bash tools/lavapipe.sh)';
  } catch (e) {
    noAdapter = `npm package 'webgpu' does not load here: ${(e as Error).message.split('\n')[0]}`;
  }
});
after(killAll);

const withBackend = (args: string[], backend: string) => [...args.filter((_, i, a) => a[i - 1] !== '--backend' && a[i] !== '--backend'), '--backend', backend];

/** Trains `args` for 3 steps on `backend` and returns the metrics rows (one per step). */
async function rows(args: string[], backend: string, out = path.join(tmpDir(`webgpu-${backend}`), 'run')): Promise<Record<string, number>[]> {
  const r = await runCli(['train', ...withBackend(args, backend), '--steps', '3', '--log-every', '1', '--sample-every', '0', '--out', out], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, `${backend} run failed: ${r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning')).slice(-3).join(' | ')}`);
  return readMetrics(path.join(out, 'metrics.jsonl')) as Record<string, number>[];
}

function assertSameLosses(gpu: Record<string, number>[], cpu: Record<string, number>[], what: string): void {
  assert.deepEqual(gpu.map((r) => r.step), [1, 2, 3], `${what}: webgpu logged every step`);
  assert.deepEqual(cpu.map((r) => r.step), [1, 2, 3]);
  for (let i = 0; i < 3; i++) {
    for (const k of ['d_loss', 'g_loss', 'd_real', 'd_fake']) {
      const a = gpu[i][k];
      const b = cpu[i][k];
      assert.ok(Number.isFinite(a) && Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what} step ${i + 1} ${k}: webgpu ${a}, wasm ${b}`);
    }
  }
}

test('train --backend webgpu: the tiny DCGAN trains three steps with the losses wasm gets', { timeout: 600_000 }, async (t) => {
  if (noAdapter) return t.skip(noAdapter);
  assertSameLosses(await rows(TINY_DCGAN, 'webgpu'), await rows(TINY_DCGAN, 'wasm'), 'tiny DCGAN');
});

test('train --backend webgpu: the MLP on ring8 trains three steps with the losses wasm gets', { timeout: 600_000 }, async (t) => {
  if (noAdapter) return t.skip(noAdapter);
  const mlp = ['--model', 'mlp', '--dataset', 'ring8', '--batch-size', '64'];
  assertSameLosses(await rows(mlp, 'webgpu'), await rows(mlp, 'wasm'), 'MLP');
});

test('local --workers 2 --backend webgpu: both workers on one adapter, replicas equal at every step', { timeout: 600_000 }, async (t) => {
  if (noAdapter) return t.skip(noAdapter);
  const out = path.join(tmpDir('webgpu-local'), 'run');
  const r = await runCli(
    ['local', '--workers', '2', '--model', 'mlp', '--dataset', 'ring8', '--batch-size', '32', '--backend', 'webgpu', '--steps', '3', '--hash-every', '1', '--log-every', '1', '--sample-every', '0', '--out', out],
    { timeoutMs: 300_000 },
  );
  assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning')).slice(-3).join(' | '));
  const m = readMetrics(path.join(out, 'metrics.jsonl')) as Record<string, number>[];
  assert.deepEqual(m.map((x) => x.step), [1, 2, 3]);
  assert.ok(m.every((x) => x.world_size === 2 && Number.isFinite(x.d_loss)));
});

/** `gan-train eval --json` of `run` on `backend`; the last stdout line, parsed. */
async function evalJson(args: string[], backend: string): Promise<Record<string, unknown>> {
  const r = await runCli(['eval', ...args, '--json', '--backend', backend], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, `eval on ${backend} failed: ${r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning')).slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

test('eval --backend webgpu: image scores (a TF.js graph model\'s features) and 2-D mode coverage as on wasm', { timeout: 600_000 }, async (t) => {
  if (noAdapter) return t.skip(noAdapter);
  const dir = tmpDir('webgpu-eval');
  const image = path.join(dir, 'dcgan');
  const mlp = path.join(dir, 'mlp');
  await rows(TINY_DCGAN, 'wasm', image);
  await rows(['--model', 'mlp', '--dataset', 'ring8', '--batch-size', '64'], 'wasm', mlp);
  // A small real graph model, as tensorflowjs_converter writes them (libs/metrics' fixture script).
  const fx = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'libs/metrics/scripts/make-graph-model-fixture.ts'), path.join(dir, 'fx')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })) as { modelJson: string };
  const imageArgs = ['--run', image, '--samples', '64', '--features', fx.modelJson, '--features-node', 'features', '--logits-node', 'logits'];
  const [gpu, cpu] = [await evalJson(imageArgs, 'webgpu'), await evalJson(imageArgs, 'wasm')];
  const scores = (r: Record<string, unknown>) => r.scores as { name: string; value: number; real_vs_real: number }[];
  assert.equal(scores(gpu).length, 2, 'FD and IS');
  for (const [i, s] of scores(gpu).entries()) {
    const w = scores(cpu)[i];
    assert.equal(s.name, w.name);
    for (const k of ['value', 'real_vs_real'] as const) {
      assert.ok(Number.isFinite(s[k]) && Math.abs(s[k] - w[k]) <= 1e-3 * Math.max(1, Math.abs(w[k])), `${s.name} ${k}: webgpu ${s[k]}, wasm ${w[k]}`);
    }
  }
  const m = [await evalJson(['--run', mlp], 'webgpu'), await evalJson(['--run', mlp], 'wasm')];
  assert.equal(m[0].modes, m[1].modes);
  assert.ok(Math.abs((m[0].high_quality as number) - (m[1].high_quality as number)) <= 0.01, `high quality: webgpu ${m[0].high_quality}, wasm ${m[1].high_quality}`);
});
