// `gan-train sample` in real processes: with no seed it reproduces the run's last fake_samples grid (DCGAN) or
// scatter plot (MLP) byte for byte; a seed draws other noise (seeds differ, a seed repeats); --n sets the grid;
// a missing run is one clear line. Run: node tools/run-tests.mjs test sample-cli
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { readPngHeader } from '@gan/telemetry';
import { killAll, runCli, tmpDir, TINY_DCGAN } from './helpers';

after(killAll);

async function sample(args: string[]): Promise<{ path: string; step: number; n: number; seed: number | null }> {
  const r = await runCli(['sample', '--backend', 'wasm', ...args], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('sample reproduces the last DCGAN grid, draws other noise from a seed, and sizes the grid by --n', { timeout: 300_000 }, async () => {
  const out = path.join(tmpDir('sample'), 'run');
  const t = await runCli(['train', ...TINY_DCGAN, '--steps', '4', '--sample-every', '2', '--checkpoint-every', '2', '--out', out], { timeoutMs: 180_000 });
  assert.equal(t.code, 0, t.stderr);
  const mine = await sample(['--run', out]);
  assert.equal(mine.step, 4);
  assert.equal(mine.path, path.join(out, 'samples_step_000004.png'));
  assert.ok(fs.readFileSync(mine.path).equals(fs.readFileSync(path.join(out, 'fake_samples_step_000004.png'))), "the run's own noise gives the trainer's last grid");
  const a = await sample(['--run', out, '--seed', '5', '--n', '16', '--out', path.join(out, 'a.png')]);
  const b = await sample(['--run', out, '--seed', '6', '--n', '16', '--out', path.join(out, 'b.png')]);
  const a2 = await sample(['--run', out, '--seed', '5', '--n', '16', '--out', path.join(out, 'a2.png')]);
  assert.deepEqual([a.seed, a.n], [5, 16]);
  assert.ok(fs.readFileSync(a.path).equals(fs.readFileSync(a2.path)), 'a seed repeats');
  assert.ok(!fs.readFileSync(a.path).equals(fs.readFileSync(b.path)), 'two seeds differ');
  const big = readPngHeader(fs.readFileSync(mine.path), mine.path);
  const small = readPngHeader(fs.readFileSync(a.path), a.path);
  assert.ok(small.width < big.width && small.height < big.height, `a 4×4 grid is smaller than an 8×8 one (${small.width} vs ${big.width})`);
});

test('sample reproduces the last MLP scatter plot; a missing run is one clear line', { timeout: 300_000 }, async () => {
  const out = path.join(tmpDir('sample-mlp'), 'run');
  const t = await runCli(['train', '--model', 'mlp', '--dataset', 'ring8', '--batch-size', '64', '--steps', '3', '--backend', 'wasm', '--out', out], { timeoutMs: 180_000 });
  assert.equal(t.code, 0, t.stderr);
  const s = await sample(['--run', out]);
  assert.equal(s.n, 2500);
  assert.ok(fs.readFileSync(s.path).equals(fs.readFileSync(path.join(out, 'fake_samples_step_000003.png'))));
  const r = await runCli(['sample', '--run', path.join(out, 'nope')], { timeoutMs: 60_000 });
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('gan-train: error:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /run directory .*nope does not exist/);
});
