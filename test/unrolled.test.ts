/**
 * `--unrolled K` (issue 14; Metz et al.'s unrolled GAN, first-order: libs/training/src/unrolled-d.ts) trained
 * data-parallel end to end in real processes: every unrolled D update is all-reduced, so the replicas end
 * bit-identical and 2 workers × batch b end equal to one process × batch 2b (BatchNorm off, with --n-critic 2: the
 * stream and z count the unrolled updates after the real ones either way); the unroll changes training; and a run
 * cut in two by a checkpoint and --resume (BatchNorm and spectral-norm D, whose buffers the unroll must leave alone)
 * ends bit-identical to one straight run, every checkpoint tensor alike, since the transient copy is never saved.
 * The per-step maths is checked against PyTorch in test/torch-reference.test.ts.
 * Run: node tools/run-tests.mjs test unrolled
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { killAll, runCli, TINY_DCGAN, tmpDir } from './helpers';
import { isWeight, lastCheckpoint, maxDiff, straightAndResumed, twoWorkersAndOne } from './data-parallel';

after(killAll);

const TINY = TINY_DCGAN.filter((a, i) => a !== '--batch-size' && TINY_DCGAN[i - 1] !== '--batch-size');

const weights = isWeight;

describe('--unrolled, data-parallel', { timeout: 600_000 }, () => {
  test('unrolled 2, n_critic 2: 2 workers × b equal 1 process × 2b, replicas identical, and the unroll matters', async () => {
    const dir = tmpDir('unrolled');
    const common = [...TINY, '--norm', 'none', '--n-critic', '2', '--steps', '3'];
    await twoWorkersAndOne(dir, [...common, '--unrolled', '2']);
    const a = await lastCheckpoint(path.join(dir, 'dist'));
    const b = await lastCheckpoint(path.join(dir, 'single'));
    const d = maxDiff(a, b, weights);
    assert.ok(d < 1e-5, `max |distributed − single| = ${d}`);
    // Without the unroll G trains against the real D (and the stream reads fewer batches): the weights differ.
    const plain = await runCli(['train', ...common, '--batch-size', '8', '--out', path.join(dir, 'plain')], { timeoutMs: 120_000 });
    assert.equal(plain.code, 0, plain.stderr.slice(-3000));
    assert.ok(maxDiff(b, await lastCheckpoint(path.join(dir, 'plain')), (k) => k.startsWith('g.')) > 1e-4, 'the unroll changed nothing');
    const rows = fs.readFileSync(path.join(dir, 'dist', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.step), [1, 2, 3]);
  });

  test('unrolled 2 with BatchNorm and spectral norm: 2 steps + resume + 2 steps equal 4 steps straight, bit for bit', async () => {
    const dir = tmpDir('unrolled-resume');
    const flags = [...TINY, '--batch-size', '4', '--unrolled', '2', '--spectral-norm'];
    const runs = await straightAndResumed(dir, flags);
    const x = await lastCheckpoint(runs.straight);
    const y = await lastCheckpoint(runs.split);
    assert.deepEqual([...y.keys()].sort(), [...x.keys()].sort(), 'the checkpoints hold different tensors');
    for (const [k, v] of x) assert.deepEqual(Buffer.from(y.get(k)!.buffer), Buffer.from(v.buffer), `${k} differs after resume`);
  });

  test('a negative --unrolled is a one-line error', async () => {
    const r = await runCli(['train', ...TINY, '--unrolled', '-1', '--steps', '1', '--out', path.join(tmpDir('unrolled-bad'), 'run')], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /--unrolled/);
  });
});
