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
import { readSafetensors } from '@gan/checkpoint';
import { killAll, logLines, runCli, TINY_DCGAN, tmpDir } from './helpers';

after(killAll);

const TINY = TINY_DCGAN.filter((a, i) => a !== '--batch-size' && TINY_DCGAN[i - 1] !== '--batch-size');

/** Every tensor of a run's newest checkpoint: weights, `buffers.*` and optimiser state. */
async function lastCheckpoint(out: string): Promise<Map<string, Float32Array>> {
  const d = path.join(out, 'checkpoints');
  const last = fs.readdirSync(d).filter((f) => /^ckpt_\d+\.safetensors$/.test(f)).sort().at(-1);
  assert.ok(last, `no checkpoint in ${d}`);
  const { tensors } = await readSafetensors(path.join(d, last));
  return new Map([...tensors].map(([k, v]) => [k, v.data as Float32Array]));
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>, keys: (k: string) => boolean): number {
  let m = 0;
  for (const [k, v] of a) {
    if (!keys(k)) continue;
    const u = b.get(k);
    assert.ok(u && u.length === v.length, `${k}: missing or resized`);
    for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] - u[i]));
  }
  return m;
}

const weights = (k: string) => /^[gd]\./.test(k);

describe('--unrolled, data-parallel', { timeout: 600_000 }, () => {
  test('unrolled 2, n_critic 2: 2 workers × b equal 1 process × 2b, replicas identical, and the unroll matters', async () => {
    const dir = tmpDir('unrolled');
    const common = [...TINY, '--norm', 'none', '--n-critic', '2', '--steps', '3'];
    const dist = await runCli(['local', '--workers', '2', ...common, '--unrolled', '2', '--batch-size', '4', '--hash-every', '1', '--out', path.join(dir, 'dist')], { timeoutMs: 180_000 });
    assert.equal(dist.code, 0, dist.stderr.slice(-3000));
    const digests = logLines(dist.stderr).filter((l) => l.msg === 'worker finished').map((l) => l.digest);
    assert.equal(digests.length, 2, dist.stderr.slice(-3000));
    assert.equal(new Set(digests).size, 1, 'replicas differ');
    const single = await runCli(['train', ...common, '--unrolled', '2', '--batch-size', '8', '--out', path.join(dir, 'single')], { timeoutMs: 120_000 });
    assert.equal(single.code, 0, single.stderr.slice(-3000));
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
    const a = await runCli(['train', ...flags, '--steps', '4', '--out', path.join(dir, 'straight')], { timeoutMs: 120_000 });
    assert.equal(a.code, 0, a.stderr.slice(-3000));
    const b = await runCli(['train', ...flags, '--steps', '2', '--out', path.join(dir, 'split')], { timeoutMs: 120_000 });
    assert.equal(b.code, 0, b.stderr.slice(-3000));
    const c = await runCli(['train', ...flags, '--steps', '4', '--out', path.join(dir, 'split'), '--resume', path.join(dir, 'split', 'checkpoints')], { timeoutMs: 120_000 });
    assert.equal(c.code, 0, c.stderr.slice(-3000));
    const x = await lastCheckpoint(path.join(dir, 'straight'));
    const y = await lastCheckpoint(path.join(dir, 'split'));
    assert.deepEqual([...y.keys()].sort(), [...x.keys()].sort(), 'the checkpoints hold different tensors');
    for (const [k, v] of x) assert.deepEqual(Buffer.from(y.get(k)!.buffer), Buffer.from(v.buffer), `${k} differs after resume`);
  });

  test('a negative --unrolled is a one-line error', async () => {
    const r = await runCli(['train', ...TINY, '--unrolled', '-1', '--steps', '1', '--out', path.join(tmpDir('unrolled-bad'), 'run')], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr.trim().split('\n').at(-1)!, /--unrolled/);
  });
});
