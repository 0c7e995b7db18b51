/**
 * `--optimizer rmsprop` and `--spectral-norm` (issue 14) trained data-parallel end to end in real processes: the
 * replicas end bit-identical and 2 workers × batch b end equal to one process × batch 2b (BatchNorm off: every loss
 * is a mean over rows, and spectral norm's vectors depend on the weights only); a run cut in two by a checkpoint and
 * --resume ends bit-identical to one straight run, weights, spectral-norm vectors and RMSprop state alike; and a
 * checkpoint resumed with another optimiser or without spectral norm is a one-line error. The per-step maths is
 * checked against PyTorch in test/torch-reference.test.ts. Run: node tools/run-tests.mjs test optimizer-spectral-norm
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { killAll, runCli, TINY_DCGAN, tmpDir } from './helpers';
import { isWeight, lastCheckpoint, maxDiff, straightAndResumed, twoWorkersAndOne } from './data-parallel';

after(killAll);

const BASE = [...TINY_DCGAN.filter((a, i) => a !== '--batch-size' && TINY_DCGAN[i - 1] !== '--batch-size'), '--norm', 'none'];

const weights = isWeight;

const CASES: { name: string; flags: string[]; clip?: number; state: string }[] = [
  { name: 'wgan, clip 0.01, rmsprop', flags: ['--loss', 'wgan', '--clip', '0.01', '--optimizer', 'rmsprop'], clip: 0.01, state: 'rmsprop.d.square_avg' },
  { name: 'hinge, spectral norm', flags: ['--loss', 'hinge', '--spectral-norm'], state: 'adam.d.m' },
];

describe('--optimizer rmsprop and --spectral-norm, data-parallel', { timeout: 600_000 }, () => {
  for (const c of CASES) {
    test(`${c.name}: 2 workers × b equal 1 process × 2b, replicas identical`, async () => {
      const dir = tmpDir('opt-sn');
      const common = [...BASE, ...c.flags, '--steps', '3'];
      await twoWorkersAndOne(dir, common);
      const a = await lastCheckpoint(path.join(dir, 'dist'));
      const b = await lastCheckpoint(path.join(dir, 'single'));
      assert.ok(a.has(c.state), `the checkpoint holds ${c.state}: ${[...a.keys()].filter((k) => !weights(k))}`);
      const d = maxDiff(a, b, (k) => weights(k) || k === 'buffers.d' || k === c.state);
      assert.ok(d < 1e-5, `max |distributed − single| = ${d}`);
      // The option changed the training: against the same loss with Adam and no spectral norm.
      const plainFlags = common.filter((f) => f !== '--spectral-norm' && f !== '--optimizer' && f !== 'rmsprop');
      const plain = await runCli(['train', ...plainFlags, '--batch-size', '8', '--out', path.join(dir, 'plain')], { timeoutMs: 120_000 });
      assert.equal(plain.code, 0, plain.stderr.slice(-3000));
      assert.ok(maxDiff(a, await lastCheckpoint(path.join(dir, 'plain')), weights) > 1e-4, 'the option changed nothing');
      if (c.clip) {
        for (const [k, v] of a) if (k.startsWith('d.')) assert.ok(v.every((x) => Math.abs(x) <= Math.fround(c.clip!)), `${k} outside ±${c.clip}`);
      }
    });
  }

  test('spectral norm + rmsprop: 2 steps + resume + 2 steps equal 4 steps straight, bit for bit (weights, u and v, optimiser)', async () => {
    const dir = tmpDir('opt-sn-resume');
    const flags = [...BASE, '--batch-size', '4', '--loss', 'hinge', '--spectral-norm', '--optimizer', 'rmsprop'];
    const runs = await straightAndResumed(dir, flags);
    const x = await lastCheckpoint(runs.straight);
    const y = await lastCheckpoint(runs.split);
    assert.ok(x.get('buffers.d')!.length > 0 && x.has('rmsprop.g.square_avg'));
    assert.deepEqual([...y.keys()].sort(), [...x.keys()].sort());
    for (const [k, v] of x) assert.deepEqual(Buffer.from(y.get(k)!.buffer), Buffer.from(v.buffer), `${k} differs after resume`);
  });

  test('resuming with another optimiser, or without spectral norm, is a one-line error', async () => {
    const dir = tmpDir('opt-sn-bad');
    const run = path.join(dir, 'run');
    const flags = [...BASE, '--batch-size', '4', '--loss', 'hinge', '--spectral-norm'];
    const first = await runCli(['train', ...flags, '--steps', '1', '--out', run], { timeoutMs: 120_000 });
    assert.equal(first.code, 0, first.stderr.slice(-3000));
    const before = fs.readdirSync(path.join(run, 'checkpoints'));
    const opt = await runCli(['train', ...flags, '--optimizer', 'rmsprop', '--steps', '2', '--out', run, '--resume', run], { timeoutMs: 60_000 });
    assert.notEqual(opt.code, 0);
    assert.match(opt.stderr.trim().split('\n').at(-1)!, /holds adam optimizer state and this run uses --optimizer rmsprop: resume with --optimizer adam, or start a new run/);
    const sn = await runCli(['train', ...flags.filter((f) => f !== '--spectral-norm'), '--steps', '2', '--out', run, '--resume', run], { timeoutMs: 60_000 });
    assert.notEqual(sn.code, 0);
    assert.match(sn.stderr.trim().split('\n').at(-1)!, /was made for another architecture: spectralNorm is true there and false now/);
    assert.deepEqual(fs.readdirSync(path.join(run, 'checkpoints')), before, 'a refused resume wrote nothing');
  });
});
