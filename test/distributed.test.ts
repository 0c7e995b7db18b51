/**
 * Distributed data-parallel training end to end: a real coordinator and real worker processes talking gRPC over
 * 127.0.0.1, each test under a hard timeout, every process killed by PID at the end.
 * Run: node tools/run-tests.mjs test distributed
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '@gan/checkpoint';
import { alive, killAll, killTree, logLines, ROOT, runCli, startCli, TINY_DCGAN, tmpDir, waitFor } from './helpers';

after(killAll);

function checkpoints(out: string): string[] {
  const d = path.join(out, 'checkpoints');
  return fs.existsSync(d) ? fs.readdirSync(d).filter((f) => /^ckpt_\d+\.safetensors$/.test(f)).sort().map((f) => path.join(d, f)) : [];
}

function digests(stderr: string): Map<number, string> {
  return new Map(logLines(stderr).filter((l) => l.msg === 'worker finished').map((l) => [l.rank, l.digest]));
}

describe('gan-train local', { timeout: 300_000 }, () => {
  test('3 workers train the small DCGAN and end bit-identical', async () => {
    const out = path.join(tmpDir('three'), 'run');
    const r = await runCli(['local', '--workers', '3', ...TINY_DCGAN, '--steps', '4', '--hash-every', '2', '--out', out], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const d = digests(r.stderr);
    assert.deepEqual([...d.keys()].sort(), [0, 1, 2], r.stderr.slice(-3000));
    assert.equal(new Set(d.values()).size, 1, `replicas differ: ${JSON.stringify([...d])}`);
    assert.ok(fs.existsSync(path.join(out, 'fake_samples_step_000004.png')));
    const rows = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.at(-1).world_size, 3);
    assert.ok(rows.every((x) => Number.isFinite(x.allreduce_ms)));
  });

  test("the README's main command, run for a few steps, writes a sample PNG and exits 0", async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('npx gan-train local'));
    assert.ok(line, 'README has a `npx gan-train local` command');
    const args = line.replace(/^npx gan-train /, '').trim().split(/\s+/);
    const out = path.join(tmpDir('readme'), 'run');
    // Later flags win: the same command, cut to 2 steps, writing to a temp folder.
    const r = await runCli([...args, '--steps', '2', '--sample-every', '2', '--out', out], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const png = fs.readFileSync(path.join(out, 'fake_samples_step_000002.png'));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.equal(digests(r.stderr).size, 2);
  });

  test('2 workers × batch b equal 1 process × batch 2b (norm off): sharding, averaging and D/G order', async () => {
    const dir = tmpDir('equiv');
    const base = TINY_DCGAN.filter((a, i) => a !== '--batch-size' && TINY_DCGAN[i - 1] !== '--batch-size');
    const common = [...base, '--norm', 'none', '--steps', '3'];
    const dist = await runCli(['local', '--workers', '2', ...common, '--batch-size', '4', '--out', path.join(dir, 'dist')], { timeoutMs: 180_000 });
    assert.equal(dist.code, 0, dist.stderr.slice(-3000));
    const single = await runCli(['train', ...common, '--batch-size', '8', '--out', path.join(dir, 'single')], { timeoutMs: 120_000 });
    assert.equal(single.code, 0, single.stderr.slice(-3000));
    const a = (await readSafetensors(checkpoints(path.join(dir, 'dist')).at(-1)!)).tensors;
    const b = (await readSafetensors(checkpoints(path.join(dir, 'single')).at(-1)!)).tensors;
    const init = await runCli(['train', ...common, '--steps', '1', '--batch-size', '8', '--out', path.join(dir, 'other-seed'), '--seed', '2'], { timeoutMs: 120_000 });
    assert.equal(init.code, 0);
    const c = (await readSafetensors(checkpoints(path.join(dir, 'other-seed')).at(-1)!)).tensors;
    let maxDiff = 0;
    let maxOther = 0;
    for (const [name, t] of a) {
      if (!/^[gd]\./.test(name)) continue;
      const u = b.get(name)!.data as Float32Array;
      const v = t.data as Float32Array;
      const w = c.get(name)!.data as Float32Array;
      for (let i = 0; i < v.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(v[i] - u[i]));
        maxOther = Math.max(maxOther, Math.abs(v[i] - w[i]));
      }
    }
    // float32 rounding of a mean of means against one mean, through 3 Adam steps of lr 2e-4.
    assert.ok(maxDiff < 1e-5, `max |distributed - single| = ${maxDiff}`);
    assert.ok(maxOther > 1e-3, `a different run should differ (max diff ${maxOther})`);
  });

  test('SIGKILL of a worker mid-run: the others stop with a clear error, no process is left, last checkpoint intact', async () => {
    const out = path.join(tmpDir('kill'), 'run');
    const run = startCli(['local', '--workers', '3', ...TINY_DCGAN, '--steps', '100000', '--checkpoint-every', '2',
      '--op-timeout-ms', '3000', '--heartbeat-ms', '500', '--out', out], { timeoutMs: 120_000 });
    await waitFor(() => checkpoints(out).length >= 2, 90_000, 'two checkpoints');
    const workers = logLines(run.stderr).filter((l) => l.msg === 'joined');
    assert.equal(workers.length, 3, run.stderr.slice(-2000));
    const victim = workers.find((l) => l.rank === 1)!;
    const pids = logLines(run.stderr).map((l) => l.pid).filter((p): p is number => typeof p === 'number');
    const t0 = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const r = await run.done;
    const took = Date.now() - t0;
    assert.notEqual(r.code, 0, 'the launcher must report the failure');
    assert.ok(took < 60_000, `took ${took} ms to stop`);
    assert.match(r.stderr, /rank 1|127\.0\.0\.1:\d+/);
    for (const pid of new Set([...pids, run.proc.pid!])) assert.ok(!alive(pid), `process ${pid} still running`);
    const last = checkpoints(out).at(-1)!;
    const { metadata } = await readSafetensors(last);
    assert.ok(Number(metadata.step) >= 2);
  });

  test('Ctrl-C in the launcher is an orderly stop: every rank ends at the same step, with a final checkpoint, exit 0', async () => {
    const out = path.join(tmpDir('sigint'), 'run');
    const run = startCli(['local', '--workers', '2', ...TINY_DCGAN, '--steps', '100000', '--checkpoint-every', '100000', '--out', out],
      { timeoutMs: 120_000 });
    await waitFor(() => fs.existsSync(path.join(out, 'metrics.jsonl')) && fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').split('\n').length > 5, 90_000, 'a few steps');
    process.kill(run.proc.pid!, 'SIGINT');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const d = logLines(r.stderr).filter((l) => l.msg === 'worker finished');
    assert.equal(d.length, 2);
    assert.equal(d[0].step, d[1].step);
    assert.equal(d[0].digest, d[1].digest);
    const last = checkpoints(out).at(-1)!;
    assert.ok(last.endsWith(`ckpt_${String(d[0].step).padStart(6, '0')}.safetensors`), `${last} is not the final step ${d[0].step}`);
  });

  test('a worker with a different config is refused, naming the field', async () => {
    const coord = startCli(['coordinator', '--listen', '127.0.0.1:0', '--workers', '1', ...TINY_DCGAN, '--steps', '2'], { timeoutMs: 60_000 });
    try {
      await waitFor(() => coord.stdout.includes('listening'), 30_000, 'coordinator to listen');
      const address = JSON.parse(coord.stdout.split('\n')[0]).address;
      const w = await runCli(['worker', '--coordinator', address, ...TINY_DCGAN, '--steps', '2', '--lr', '0.001'], { timeoutMs: 60_000 });
      assert.equal(w.code, 1);
      assert.match(w.stderr, /FAILED_PRECONDITION/);
      assert.match(w.stderr, /'lr' differs: coordinator 0\.0002, worker 0\.001/);
    } finally {
      killTree(coord.proc);
    }
  });
});
