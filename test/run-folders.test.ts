/**
 * Run folders as a user meets them (issue 15): a fresh default folder per run, a second run refused from a folder
 * that holds one (unless --resume or --overwrite), and config.json written at the start of every run, for `train`
 * and for `local` (where the launcher picks the folder once for all workers). Real processes.
 * Run: node tools/run-tests.mjs test run-folders
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { eventFilesIn, readEvents } from '@gan/telemetry';
import { killAll, runCli, TINY_DCGAN, tmpDir } from './helpers';

after(killAll);
const T = { timeoutMs: 120_000 };
const MLP = ['--model', 'mlp', '--mlp-hidden', '16', '--batch-size', '32', '--steps', '3', '--sample-every', '0', '--backend', 'wasm'];

function steps(out: string): number[] {
  return fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
}

/** The steps of the loss/d scalars in each of the run's TensorBoard events files, in TensorBoard's reading order. */
function tbSteps(out: string): number[][] {
  return eventFilesIn(path.join(out, 'tb')).map((f) => readEvents(f).filter((e) => e.summary?.value.some((v) => v.tag === 'loss/d')).map((e) => e.step));
}

describe('run folders', () => {
  test('no --out: a fresh runs/<date>-<time> per run, each with config.json', async () => {
    const cwd = tmpDir('default-out');
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['train', ...MLP], { ...T, cwd });
      assert.equal(r.code, 0, r.stderr.slice(-2000));
    }
    const runs = fs.readdirSync(path.join(cwd, 'runs')).sort();
    assert.equal(runs.length, 2, `two runs, two folders: ${runs}`);
    for (const name of runs) {
      assert.match(name, /^\d{8}-\d{6}(-\d+)?$/);
      const cfg = JSON.parse(fs.readFileSync(path.join(cwd, 'runs', name, 'config.json'), 'utf8'));
      assert.equal(cfg.config.out, path.join('runs', name));
      assert.equal(cfg.config.model, 'mlp');
      assert.equal(cfg.config.lr, 5e-4, "the MLP's own default, resolved");
      assert.equal(cfg.backend, 'wasm');
      assert.equal(cfg.worldSize, 1);
      assert.match(cfg.version, /^\d+\.\d+\.\d+/);
      assert.equal(cfg.node, process.version);
      assert.deepEqual(steps(path.join(cwd, 'runs', name)), [1, 3]);
    }
  });

  test('a folder holding a run is refused; --overwrite replaces that run; --resume continues it', async () => {
    const out = path.join(tmpDir('reuse'), 'run');
    const first = await runCli(['train', ...MLP, '--out', out], T);
    assert.equal(first.code, 0, first.stderr.slice(-2000));
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const ckpt = fs.readdirSync(path.join(out, 'checkpoints'));

    const again = await runCli(['train', ...MLP, '--seed', '2', '--out', out], T);
    assert.notEqual(again.code, 0);
    const line = again.stderr.trim().split('\n').at(-1)!;
    assert.match(line, /--out .* holds another run \(checkpoints, config\.json, metrics\.jsonl, …\): continue it with --resume .*, replace it with --overwrite, or pick another --out/);
    assert.deepEqual(fs.readdirSync(path.join(out, 'checkpoints')), ckpt, 'nothing of the first run was touched');
    assert.deepEqual(steps(out), [1, 3]);

    const resumed = await runCli(['train', ...MLP, '--steps', '5', '--out', out, '--resume', out], T);
    assert.equal(resumed.code, 0, resumed.stderr.slice(-2000));
    assert.deepEqual(steps(out), [1, 3, 5], 'the resumed run appends its steps');
    assert.deepEqual(tbSteps(out), [[1, 3], [5]], 'the resumed run adds its own TensorBoard events file; the refused one none');

    const over = await runCli(['train', ...MLP, '--seed', '2', '--out', out, '--overwrite'], T);
    assert.equal(over.code, 0, over.stderr.slice(-2000));
    assert.deepEqual(steps(out), [1, 3], 'only the new run is left');
    assert.deepEqual(tbSteps(out), [[1, 3]], "the replaced run's TensorBoard events are gone");
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).config.seed, 2);
    assert.equal(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'), 'mine', "files that are not the run's are kept");
  });

  test('local: the launcher picks one folder for all workers and refuses a used one before starting any', async () => {
    const cwd = tmpDir('local-out');
    const r = await runCli(['local', '--workers', '2', ...TINY_DCGAN, '--steps', '2', '--sample-every', '0'], { timeoutMs: 180_000, cwd });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const runs = fs.readdirSync(path.join(cwd, 'runs'));
    assert.equal(runs.length, 1, `one folder for the run: ${runs}`);
    const out = path.join(cwd, 'runs', runs[0]);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).worldSize, 2);
    const again = await runCli(['local', '--workers', '2', ...TINY_DCGAN, '--steps', '2', '--out', out], { timeoutMs: 60_000, cwd });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr.trim().split('\n').at(-1)!, /holds another run/);
    assert.ok(!/"role":"worker"/.test(again.stderr), 'no worker was started');
  });
});
