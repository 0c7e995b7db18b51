/**
 * Fault tolerance with real processes (issue: survive lost workers, admit new ones, resume after a full stop):
 * SIGKILL or SIGSTOP of a worker in an elastic run, a worker joining mid-run, a coordinator restart, and a full
 * stop followed by --resume. Every test has a hard timeout and kills what it started.
 * Run: node tools/run-tests.mjs test elastic
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readSafetensors } from '@gan/checkpoint';
import { alive, killAll, killTree, lastStep, logLines, startCli, TINY_DCGAN, tmpDir, waitFor, type Run } from './helpers';

after(killAll);

const FAST = ['--op-timeout-ms', '2000', '--heartbeat-ms', '300', '--hash-every', '5'];

function digests(stderr: string): Map<number, string> {
  return new Map(logLines(stderr).filter((l) => l.msg === 'worker finished').map((l) => [l.rank, l.digest]));
}

function generations(stderr: string): { generation: number; worldSize: number; step: number; t: number }[] {
  return logLines(stderr).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('generation formed'))
    .map((l) => ({ generation: l.generation, worldSize: l.worldSize, step: l.step, t: Date.parse(l.time) }));
}

/** Every log line but the per-step metrics, for a failure message that shows what each process went through. */
function events(stderr: string): string {
  return stderr.split('\n').filter((l) => l && !l.includes('"msg":"step"')).join('\n').slice(-6000);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Kills one worker of a local run (by rank of the first generation) when the run passes `atStep`. */
async function loseWorker(run: Run, out: string, rank: number, atStep: number, sig: NodeJS.Signals): Promise<{ pid: number; t: number }> {
  await waitFor(() => lastStep(out) >= atStep, 90_000, `step ${atStep}`);
  const w = logLines(run.stderr).find((l) => l.msg === 'joined' && l.rank === rank);
  assert.ok(w, 'worker log with its pid');
  const t = Date.now();
  process.kill(w.pid, sig);
  return { pid: w.pid, t };
}

describe('elastic training', { timeout: 600_000 }, () => {
  for (const sig of ['SIGKILL', 'SIGSTOP'] as const) {
    test(`${sig} of one of 4 workers: the other 3 go on within 10 s, stay bit-identical and finish`, async () => {
      const out = path.join(tmpDir(`lose-${sig}`), 'run');
      const steps = 30;
      const run = startCli(['local', '--workers', '4', '--min-workers', '3', ...TINY_DCGAN, ...FAST, '--steps', String(steps), '--out', out], { timeoutMs: 240_000 });
      const atStep = 3 + Math.floor(Math.random() * 8);
      const victim = await loseWorker(run, out, 2, atStep, sig);
      try {
        const r = await run.done;
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        const gens = generations(r.stderr);
        const three = gens.find((g) => g.worldSize === 3);
        assert.ok(three, `no 3-worker generation: ${JSON.stringify(gens)}`);
        const recoveryMs = three.t - victim.t;
        assert.ok(recoveryMs < 10_000, `recovered after ${recoveryMs} ms`);
        const d = digests(r.stderr);
        assert.equal(d.size, 3, r.stderr.slice(-2000));
        assert.equal(new Set(d.values()).size, 1, `replicas differ: ${JSON.stringify([...d])}`);
        assert.equal(lastStep(out), steps);
        process.stderr.write(`# ${sig} at step ${atStep}: recovered in ${recoveryMs} ms\n`);
      } finally {
        if (alive(victim.pid)) process.kill(victim.pid, 'SIGKILL');
      }
    });
  }

  test('--max-restarts: the launcher restarts a dead worker, which re-joins; all 3 end bit-identical', async () => {
    const out = path.join(tmpDir('restart'), 'run');
    const run = startCli(['local', '--workers', '3', '--max-restarts', '1', ...TINY_DCGAN, ...FAST, '--steps', '300', '--out', out], { timeoutMs: 240_000 });
    const victim = await loseWorker(run, out, 1, 5, 'SIGKILL');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.match(r.stderr, /restarting a worker/);
    const gens = generations(r.stderr);
    assert.ok(gens.length >= 2 && gens.at(-1)!.worldSize === 3 && gens.at(-1)!.step > 0, JSON.stringify(gens));
    const d = logLines(r.stderr).filter((l) => l.msg === 'worker finished');
    assert.equal(d.length, 3);
    assert.equal(new Set(d.map((x) => x.digest)).size, 1);
    assert.ok(!alive(victim.pid));
  });

  test('a worker joining mid-run is admitted at a step boundary and ends bit-identical', async () => {
    const out = path.join(tmpDir('join'), 'run');
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    // No fixed end: the run goes on until the joiner has trained with the others, then stops in order (SIGTERM to
    // the coordinator), so a joiner slow to start on a loaded machine cannot find the run already over.
    const train = [...TINY_DCGAN, ...FAST, '--steps', '100000', '--workers', '3', '--min-workers', '2', '--out', out];
    const coord = startCli(['coordinator', '--listen', addr, '--join-grace-ms', '500', ...train], { timeoutMs: 240_000 });
    const w = [startCli(['worker', '--coordinator', addr, ...train], { timeoutMs: 240_000 }), startCli(['worker', '--coordinator', addr, ...train], { timeoutMs: 240_000 })];
    await waitFor(() => lastStep(out) >= 5, 90_000, 'step 5 with two workers');
    w.push(startCli(['worker', '--coordinator', addr, ...train], { timeoutMs: 240_000 }));
    await waitFor(() => generations(coord.stderr).some((g) => g.worldSize === 3), 120_000, 'a generation of 3 workers');
    const joinedAt = generations(coord.stderr).find((g) => g.worldSize === 3)!.step;
    await waitFor(() => lastStep(out) >= joinedAt + 10, 90_000, `step ${joinedAt + 10}, 10 steps after the join`);
    process.kill(-coord.proc.pid!, 'SIGTERM');
    const codes = await Promise.all(w.map((x) => x.done));
    const c = await coord.done;
    assert.deepEqual(codes.map((x) => x.code), [0, 0, 0], codes.map((x) => x.stderr.slice(-1500)).join('\n---\n'));
    assert.equal(c.code, 0, c.stderr.slice(-2000));
    const gens = generations(c.stderr);
    assert.equal(gens[0].worldSize, 2);
    assert.ok(gens.some((g) => g.worldSize === 3 && g.step > 0), JSON.stringify(gens));
    const d = new Set(w.map((x) => digests(x.stderr)).flatMap((m) => [...m.values()]));
    assert.equal(d.size, 1, `replicas differ: ${[...d]}`);
  });

  test('the coordinator is killed and started again: training continues to the end', async () => {
    const out = path.join(tmpDir('coord'), 'run');
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    // No fixed end (the workers must still be training when the new coordinator comes up, however loaded the
    // machine): once the new coordinator has adopted the generation and 10 more steps ran, it is told to stop.
    const train = [...TINY_DCGAN, ...FAST, '--steps', '100000', '--workers', '2', '--out', out];
    let coord = startCli(['coordinator', '--listen', addr, ...train], { timeoutMs: 240_000 });
    const w = [startCli(['worker', '--coordinator', addr, ...train], { timeoutMs: 240_000 }), startCli(['worker', '--coordinator', addr, ...train], { timeoutMs: 240_000 })];
    await waitFor(() => lastStep(out) >= 5, 90_000, 'step 5');
    killTree(coord.proc);
    await coord.done;
    const stepAtKill = lastStep(out);
    await new Promise((r) => setTimeout(r, 1500));
    const second = startCli(['coordinator', '--listen', addr, ...train], { timeoutMs: 240_000 });
    coord = second;
    await waitFor(() => /adopted a running generation/.test(second.stderr), 90_000, 'the new coordinator adopting the generation');
    const adoptedAt = lastStep(out);
    await waitFor(() => lastStep(out) >= adoptedAt + 10, 90_000, `step ${adoptedAt + 10}`);
    process.kill(-second.proc.pid!, 'SIGTERM');
    const codes = await Promise.all(w.map((x) => x.done));
    const c = await second.done;
    const story = () => [...codes, c].map((x) => events(x.stderr)).join('\n---\n');
    assert.deepEqual(codes.map((x) => x.code), [0, 0], story());
    assert.equal(c.code, 0, story());
    const finished = w.map((x) => logLines(x.stderr).find((l) => l.msg === 'worker finished'));
    assert.ok(finished[0] && finished[1], 'a worker did not finish in order');
    const endStep = finished[0].step;
    assert.ok(stepAtKill < adoptedAt + 10 && endStep >= adoptedAt + 10, `killed at ${stepAtKill}, adopted at ${adoptedAt}, finished at ${endStep}`);
    assert.equal(lastStep(out), endStep, 'metrics.jsonl ends at the step the workers finished');
    const d = new Set(w.map((x) => digests(x.stderr)).flatMap((m) => [...m.values()]));
    assert.equal(d.size, 1);
  });

  test('everything killed, then --resume continues the step counter and the weights', async () => {
    const out = path.join(tmpDir('resume'), 'run');
    const args = ['local', '--workers', '2', ...TINY_DCGAN, ...FAST, '--steps', '200', '--checkpoint-every', '3', '--out', out];
    const first = startCli(args, { timeoutMs: 180_000 });
    const ck = path.join(out, 'checkpoints');
    await waitFor(() => fs.existsSync(ck) && fs.readdirSync(ck).some((f) => f === 'ckpt_000006.safetensors'), 90_000, 'checkpoint 6');
    const pids = logLines(first.stderr).map((l) => l.pid).filter((p): p is number => typeof p === 'number');
    for (const p of new Set(pids)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    killTree(first.proc);
    await first.done;
    const saved = fs.readdirSync(ck).filter((f) => f.endsWith('.safetensors')).sort().at(-1)!;
    const savedStep = Number(saved.slice(5, 11));
    const second = await startCli([...args, '--resume', ck], { timeoutMs: 180_000 }).done;
    assert.equal(second.code, 0, second.stderr.slice(-3000));
    const rows = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const resumed = rows.filter((r) => r.step > savedStep);
    assert.equal(resumed[0].step, savedStep + 1, `resumed at ${resumed[0]?.step}, checkpoint was ${savedStep}`);
    assert.equal(rows.at(-1).step, 200);
    assert.ok(savedStep < 200, `the first run was not interrupted (checkpoint ${savedStep})`);
    const { metadata } = await readSafetensors(path.join(ck, 'ckpt_000200.safetensors'));
    assert.equal(metadata.step, '200');
    assert.match(second.stderr, new RegExp(`"step":${savedStep}[,}].*resumed`));
  });
});
