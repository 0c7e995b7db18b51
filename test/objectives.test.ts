/**
 * The GAN objectives beyond the document's (issue 14): `--loss hinge`, `--loss wgan` with `--clip` and
 * `--n-critic`, `--loss wgan-gp` (its ε drawn per global row like z) with `--n-critic`, and `--feature-matching`, trained data-parallel end to end in real processes. For each: the replicas
 * end bit-identical, and where the maths allows it 2 workers × batch b end equal to one process × batch 2b (with
 * BatchNorm off every loss is a mean over rows, and with n_critic the K D updates of a step read the same global rows
 * either way; feature matching compares this rank's batch means, so it is left out). A wgan run cut in two by a
 * checkpoint and --resume ends bit-identical to one straight run. The per-step maths is checked against
 * PyTorch in test/torch-reference.test.ts. Run: node tools/run-tests.mjs test objectives
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isWeight, lastCheckpoint, maxDiff, straightAndResumed, twoWorkersAndOne } from './data-parallel';
import { killAll, runCli, TINY_DCGAN, tmpDir } from './helpers';

after(killAll);

const BASE = [...TINY_DCGAN.filter((a, i) => a !== '--batch-size' && TINY_DCGAN[i - 1] !== '--batch-size'), '--norm', 'none'];

const OBJECTIVES: { name: string; flags: string[]; clip?: number; perRank?: boolean }[] = [
  { name: 'hinge', flags: ['--loss', 'hinge'] },
  { name: 'wgan, clip 0.01, n_critic 2', flags: ['--loss', 'wgan', '--clip', '0.01', '--n-critic', '2'], clip: 0.01 },
  { name: 'wgan-gp, gp-weight 10, n_critic 2', flags: ['--loss', 'wgan-gp', '--gp-weight', '10', '--n-critic', '2'] },
  { name: 'feature matching', flags: ['--feature-matching'], perRank: true },
];

describe('GAN objectives, data-parallel', { timeout: 600_000 }, () => {
  for (const o of OBJECTIVES) {
    test(`${o.name}: ${o.perRank ? '2 workers train end to end' : '2 workers × b equal 1 process × 2b'}, replicas identical`, async () => {
      const dir = tmpDir('objective');
      const common = [...BASE, ...o.flags, '--steps', '3'];
      await twoWorkersAndOne(dir, common);
      const a = await lastCheckpoint(path.join(dir, 'dist'), isWeight);
      const b = await lastCheckpoint(path.join(dir, 'single'), isWeight);
      const d = maxDiff(a, b);
      if (!o.perRank) assert.ok(d < 1e-5, `max |distributed − single| = ${d}`);
      // The runs trained (the comparison is not between two untouched initialisations) and the objective matters.
      const plain = await runCli(['train', ...BASE, '--steps', '3', '--batch-size', '8', '--out', path.join(dir, 'plain')], { timeoutMs: 120_000 });
      assert.equal(plain.code, 0, plain.stderr.slice(-3000));
      assert.ok(maxDiff(a, await lastCheckpoint(path.join(dir, 'plain'), isWeight)) > 1e-4, 'the objective changed nothing');
      if (o.clip) {
        for (const [k, v] of a) if (k.startsWith('d.')) assert.ok(v.every((x) => Math.abs(x) <= Math.fround(o.clip!)), `${k} outside ±${o.clip}`);
      }
      const rows = fs.readFileSync(path.join(dir, 'dist', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(rows.map((r) => r.step), [1, 2, 3]);
    });
  }

  test('wgan with n_critic 2: 2 steps + resume + 2 steps equal 4 steps straight, bit for bit', async () => {
    const dir = tmpDir('objective-resume');
    const flags = [...BASE, '--batch-size', '4', '--loss', 'wgan', '--n-critic', '2'];
    const runs = await straightAndResumed(dir, flags);
    const x = await lastCheckpoint(runs.straight, isWeight);
    const y = await lastCheckpoint(runs.split, isWeight);
    for (const [k, v] of x) assert.deepEqual(Buffer.from(y.get(k)!.buffer), Buffer.from(v.buffer), `${k} differs after resume`);
  });

  test('weight clipping with wgan-gp, and wgan-gp with BatchNorm, are one-line errors', async () => {
    const out = path.join(tmpDir('objective-bad'), 'run');
    const r = await runCli(['train', ...BASE, '--loss', 'wgan-gp', '--clip', '0.02', '--steps', '1', '--out', out], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /--clip \(weight clipping\) applies to --loss wgan, not wgan-gp: its gradient penalty \(--gp-weight\) replaces clipping/);
    const bn = await runCli(['train', ...BASE, '--norm', 'batch', '--loss', 'wgan-gp', '--steps', '1', '--out', out], { timeoutMs: 60_000 });
    assert.notEqual(bn.code, 0);
    assert.match(bn.stderr.trim().split('\n').at(-1)!, /--loss wgan-gp needs --norm none: its gradient penalty is per sample/);
    assert.ok(!fs.existsSync(out), 'a refused run wrote its folder');
  });

  test('label smoothing with a critic loss is a one-line error', async () => {
    const r = await runCli(['train', ...BASE, '--loss', 'hinge', '--label-smoothing', '0.1', '--steps', '1', '--out', path.join(tmpDir('objective-bad'), 'run')], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /--label-smoothing applies to the BCE losses \(non-saturating, minimax\), not --loss hinge/);
  });
});
