/**
 * Multi-host runs on an emulated network (issue 16): four Linux network namespaces — hosts a (10.77.0.1), b, c and
 * d — on one bridge, each link limited by `tc … tbf rate 1gbit burst 256kb latency 50ms` (test/netns.ts). The
 * documented commands run inside them: `gan-train coordinator` and worker 0 on a, worker 1 on b, worker 2 on c, with
 * a token file from `gan-train token`; d holds a stranger. The 3-host run is started as deploy/k8s starts its pods:
 * the role alone on the command line, the rest from the GAN_* environment contract (test/env-contract.ts lists the
 * variables; the training flags are a GAN_CONFIG file); the elastic runs use the documented flags. Checked: a 3-host run trains with its data channel on TCP
 * between the hosts (an abstract Unix socket cannot leave its namespace) and ends bit-identical; a worker with
 * another secret is refused and the run goes on; in an elastic run, cutting host c off the network (its bridge port
 * down: packets dropped silently; or its own interface down: sends fail) makes the other two re-form and go on, and
 * restoring the link brings c back into a 3-worker generation.
 * Needs root and iproute2 (`ip netns`, `tc`): skips with a message otherwise. Every process is killed by PID and
 * every namespace (with the bridge and veths in them) removed at the end, even on failure.
 * Run: node tools/run-tests.mjs test multi-host
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { envVarsOf } from '@gan/config';
import { flagsToConfig, type CoordinatorEnv, type WorkerEnv } from './env-contract';
import { alive, killAll, lastStep, logLines, runCli, startCli, TINY_DCGAN, tmpDir, waitFor, type Run } from './helpers';
import { createNetwork, netnsUnavailable, qdiscOf, sentBytes, sweepStale, type EmulatedNetwork } from './netns';

let net: EmulatedNetwork | undefined;
let unavailable = netnsUnavailable();
if (!unavailable) {
  sweepStale();
  try {
    net = createNetwork(['a', 'b', 'c', 'd']);
  } catch (e) {
    unavailable = (e as Error).message;
  }
}
const skip = unavailable ? `multi-host tests skipped: ${unavailable}` : false;
// A last resort if the file ends without its `after` hook (a crash); sweepStale() catches a SIGKILLed run next time.
process.on('exit', () => net?.remove());

after(async () => {
  killAll();
  if (!net) return;
  const n = net;
  await waitFor(() => n.pids().length === 0, 10_000, 'the processes in the test namespaces to exit').catch(() => undefined);
  n.remove();
});

const FAST = ['--op-timeout-ms', '2000', '--heartbeat-ms', '300', '--hash-every', '5'];
/**
 * No GAN_TOKEN (helpers sets one): the token file is the only secret the processes have, as on real machines. Every
 * other variable of the environment contract is blanked too (empty = unset), so none leaks in from this shell.
 */
const ENV: Record<string, string> = { ...Object.fromEntries([...envVarsOf('coordinator'), ...envVarsOf('worker')].map((v) => [v, ''])), GAN_TOKEN: '' };
/** The main run's workers listen on fixed ports, as pods do (deploy/k8s/workers.yaml), clear of the coordinator's. */
const WORKER_PORT = 29511;
const WORKER_DATA_PORT = 29512;
const PROC = { timeoutMs: 110_000, exitWithParent: true };
/** How long host c stays cut off at least. */
const MIN_CUT_MS = 10_000;

function generations(stderr: string): { generation: number; worldSize: number; step: number; peers: string[]; t: number }[] {
  return logLines(stderr).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('generation formed'))
    .map((l) => ({ generation: l.generation, worldSize: l.worldSize, step: l.step, peers: l.peers, t: Date.parse(l.time) }));
}

function finished(r: { stderr: string }): { rank: number; step: number; digest: string } | undefined {
  return logLines(r.stderr).find((l) => l.msg === 'worker finished') as never;
}

/** Every log line but the per-step metrics: what each process went through, for a failure message. */
function story(runs: { stderr: string }[]): string {
  return runs.map((r) => r.stderr.split('\n').filter((l) => l && !l.includes('"msg":"step"')).join('\n').slice(-3000)).join('\n---\n');
}

/** Connects to an abstract Unix socket from inside namespace `ns`: 'connected' or the error code. */
function connectAbstract(ns: string, atName: string): string {
  const script = `const s = require('net').connect({ path: '\\0' + process.argv[1] });
s.on('connect', () => { console.log('connected'); s.destroy(); });
s.on('error', (e) => console.log(e.code));`;
  return execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script, atName.replace(/^@/, '')], { encoding: 'utf8', timeout: 20_000 }).trim();
}

async function makeToken(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  const r = await runCli(['token', '--out', file], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return file;
}

/**
 * The coordinator on host a and a worker on each of hosts a, b and c, as pods get started: `gan-train coordinator`
 * and `gan-train worker` with everything else in their environment (the training flags in a GAN_CONFIG file).
 */
function startRunFromEnv(n: EmulatedNetwork, o: { port: number; token: string; train: string[]; out: string; dir: string; workerEnv?: Record<string, string> }) {
  const a = n.hosts.a;
  const address = `${a.addr}:${o.port}`;
  const config = path.join(o.dir, 'train.json');
  fs.writeFileSync(config, JSON.stringify(flagsToConfig(o.train)));
  const coordinatorEnv: CoordinatorEnv = {
    GAN_LISTEN: address, GAN_WORKERS: '3', GAN_HTTP: `${a.addr}:0`, GAN_OUT: o.out, GAN_CONFIG: config, GAN_TOKEN_FILE: o.token,
  };
  const coord = startCli(['coordinator'], { ...PROC, env: { ...ENV, ...coordinatorEnv }, netns: a.ns });
  const workers = ['a', 'b', 'c'].map((name) => {
    const h = n.hosts[name];
    const workerEnv: WorkerEnv = {
      GAN_COORDINATOR: address, GAN_ADVERTISE: h.addr, GAN_PORT: String(WORKER_PORT), GAN_DATA_PORT: String(WORKER_DATA_PORT),
      GAN_WORKER_ID: `host-${name}`, GAN_WORKERS: '3', GAN_OUT: o.out, GAN_CONFIG: config, GAN_TOKEN_FILE: o.token,
    };
    return startCli(['worker'], { ...PROC, env: { ...ENV, ...o.workerEnv, ...workerEnv }, netns: h.ns });
  });
  return { address, coord, workers };
}

/** The coordinator on host a and a worker on each of hosts a, b and c, all with the documented flags. */
function startRun(n: EmulatedNetwork, o: { port: number; token: string; train: string[]; coordinatorFlags?: string[]; workerEnv?: Record<string, string> }) {
  const a = n.hosts.a;
  const address = `${a.addr}:${o.port}`;
  const coord = startCli(['coordinator', '--listen', address, '--token-file', o.token, ...(o.coordinatorFlags ?? []), ...o.train], { ...PROC, env: ENV, netns: a.ns });
  const workers = ['a', 'b', 'c'].map((name) => {
    const h = n.hosts[name];
    return startCli(['worker', '--coordinator', address, '--advertise', h.addr, '--token-file', o.token, ...o.train],
      { ...PROC, env: { ...ENV, ...o.workerEnv }, netns: h.ns });
  });
  return { address, coord, workers };
}

describe('multi-host runs on emulated networks (network namespaces, bridge, tbf-limited links)', { timeout: 360_000 }, () => {
  test('3 hosts: the data channel crosses them over TCP, replicas end bit-identical; a worker with another secret is refused', { skip, timeout: 120_000 }, async (t) => {
    const n = net!;
    const { a, b, c, d } = n.hosts;
    for (const h of [a, b, c, d]) assert.match(qdiscOf(h), /tbf .*rate 1Gbit/, `${h.ns}: no tbf limit on ${h.dev}`);
    const dir = tmpDir('multi-host');
    const token = await makeToken(dir, 'run.token');
    const out = path.join(dir, 'run');
    // The training flags go in the GAN_CONFIG file; the worker count and the run folder in GAN_WORKERS and GAN_OUT.
    const train = [...TINY_DCGAN, ...FAST, '--threads', '1', '--steps', '100000', '--sample-every', '0', '--checkpoint-every', '0'];
    const sent0 = [a, b, c].map(sentBytes);
    // debug: the data link's log says when an abstract Unix socket could not be reached and TCP was used instead.
    const { address, coord, workers } = startRunFromEnv(n, { port: 29501, token, train, out, dir, workerEnv: { GAN_LOG_LEVEL: 'debug' } });
    const all = () => [coord, ...workers];
    await waitFor(() => lastStep(out) >= 3, 90_000, 'the 3 workers to train a few steps').catch((e) => {
      throw new Error(`${e.message}\n${story(all())}`);
    });
    // The environment contract took effect: the coordinator listens on GAN_LISTEN and serves GAN_HTTP on host a, rank
    // 0 wrote the run under GAN_OUT with GAN_WORKERS and GAN_CONFIG's flags, the coordinator knows each worker by its
    // GAN_WORKER_ID (the pid and a random suffix after it keep restarts apart).
    const events = coord.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(events[0].address, address);
    assert.match(String(events.find((e) => e.event === 'dashboard')?.url), new RegExp(`^http://${a.addr.replace(/\./g, '\\.')}:\\d+/`));
    const recorded = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).config;
    assert.deepEqual([recorded.workers, recorded.imageSize, recorded.opTimeoutMs, recorded.threads, recorded.out], [3, 32, 2000, 1, out]);
    // (A Join retried after its long poll timed out logs again, under the same id.)
    const joinedIds = [...new Set(logLines(coord.stderr).filter((l) => l.msg === 'worker joined').map((l) => String(l.worker).split(':')[0]))].sort();
    assert.deepEqual(joinedIds, ['host-a', 'host-b', 'host-c']);

    // `ip netns exec` execs node in place: the PID startCli holds (and kills, with its group) is the worker's own.
    workers.forEach((w) => assert.equal(logLines(w.stderr)[0]?.pid, w.proc.pid, 'the worker runs under the PID its test holds'));
    const hostOf = [a, b, c];
    const listening = workers.map((w) => logLines(w.stderr).find((l) => l.msg === 'collective listening')!);
    listening.forEach((l, i) => assert.equal(l.address, `${hostOf[i].addr}:${WORKER_PORT}`, `worker ${i} listens on ${l.address}, not GAN_ADVERTISE:GAN_PORT`));
    listening.forEach((l, i) => assert.equal(l.dataPort, WORKER_DATA_PORT, `worker ${i}'s data port is not GAN_DATA_PORT`));

    // An abstract Unix socket lives in its network namespace: worker 0's answers on host a, and from host b nothing.
    const at = String(listening[0].dataPath);
    assert.match(at, /^@/, 'the worker serves an abstract Unix socket too');
    assert.equal(connectAbstract(a.ns, at), 'connected');
    assert.equal(connectAbstract(b.ns, at), 'ECONNREFUSED');

    // A worker on host d holding another secret is refused at the door, with a clear error.
    const other = await makeToken(dir, 'other.token');
    const stranger = await runCli(['worker', '--coordinator', address, '--advertise', d.addr, '--token-file', other, ...train, '--workers', '3', '--out', out], { timeoutMs: 60_000, env: ENV, netns: d.ns, exitWithParent: true });
    assert.equal(stranger.code, 1, stranger.stderr.slice(-2000));
    assert.match(stranger.stderr, /UNAUTHENTICATED/);
    const refusals = logLines(coord.stderr).filter((l) => /refused a call without the run token/.test(l.msg ?? ''));
    assert.ok(refusals.some((l) => String(l.peer).includes(d.addr)), `no refusal of ${d.addr} logged: ${JSON.stringify(refusals)}`);

    // The run is unaffected: it trains on, then the operator stops it in order (SIGTERM to the coordinator).
    const mid = lastStep(out);
    await waitFor(() => lastStep(out) >= mid + 5, 60_000, 'training to go on after the refusal');
    process.kill(-coord.proc.pid!, 'SIGTERM');
    const results = await Promise.all(workers.map((w) => w.done));
    const cr = await coord.done;
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0], story(all()));
    assert.equal(cr.code, 0, story(all()));

    // One generation of the three hosts, never re-formed; every rank at the same step with the same weights.
    const gens = generations(cr.stderr);
    assert.equal(gens.length, 1, JSON.stringify(gens));
    assert.deepEqual(gens[0].peers.map((p) => p.slice(0, p.lastIndexOf(':'))).sort(), [a.addr, b.addr, c.addr]);
    const fin = results.map(finished);
    assert.ok(fin.every(Boolean), story(all()));
    assert.equal(new Set(fin.map((f) => f!.step)).size, 1, JSON.stringify(fin));
    assert.equal(new Set(fin.map((f) => f!.digest)).size, 1, `replicas differ: ${JSON.stringify(fin)}`);
    assert.equal(lastStep(out), fin[0]!.step);

    // The data channel: each rank's connection to its predecessor is TCP to the predecessor's host address.
    results.forEach((r, i) => {
      const links = logLines(r.stderr).filter((l) => /data channel to predecessor open/.test(l.msg ?? ''));
      assert.ok(links.length >= 1, `worker ${i} opened no data channel`);
      for (const l of links) {
        const via = String(l.via);
        assert.ok(!via.startsWith('unix:'), `worker ${i}'s data channel is a Unix socket: ${via}`);
        const host = via.slice(0, via.lastIndexOf(':'));
        assert.equal(host, l.peer.address.slice(0, l.peer.address.lastIndexOf(':')), `worker ${i}: ${via} is not its predecessor ${l.peer.address}`);
        assert.ok([a.addr, b.addr, c.addr].includes(host) && host !== hostOf[i].addr, `worker ${i} (${hostOf[i].addr}) reached its predecessor at ${via}`);
      }
    });
    const fellBack = results.map((r) => logLines(r.stderr).filter((l) => /Unix socket unreachable, using TCP/.test(l.msg ?? '')).length);
    // …and the gradients went through every host's rate-limited link.
    const sent = [a, b, c].map((h, i) => sentBytes(h) - sent0[i]);
    for (const [i, s] of sent.entries()) assert.ok(s > 100_000, `only ${s} bytes left host ${hostOf[i].ns} through its tbf qdisc`);
    t.diagnostic(`${fin[0]!.step} steps; bytes sent through tbf per host: ${sent.join(', ')}; Unix-socket attempts that fell back to TCP per worker: ${fellBack.join(', ')}`);

    // Every process of the run is gone: nothing is left running in the namespaces.
    for (const r of all()) assert.ok(!alive(r.proc.pid!), `process ${r.proc.pid} still running`);
    assert.deepEqual(n.pids(), [], 'processes left in the test namespaces');
  });

  for (const side of ['bridge', 'host'] as const) {
    const how = side === 'bridge' ? 'its bridge port down' : 'its own link down';
    test(`elastic (--min-workers 2): host c cut off (${how}) → a and b go on; link restored → c re-joins, 3 replicas bit-identical`, { skip, timeout: 150_000 }, async (t) => {
      const n = net!;
      const { c } = n.hosts;
      const dir = tmpDir('multi-host-elastic');
      const token = await makeToken(dir, 'run.token');
      const out = path.join(dir, 'run');
      const train = [...TINY_DCGAN, ...FAST, '--threads', '1', '--workers', '3', '--min-workers', '2', '--steps', '100000', '--sample-every', '0', '--checkpoint-every', '0', '--out', out];
      // A long grace: the first generation waits for all three hosts (they join within seconds).
      const { coord, workers } = startRun(n, { port: side === 'bridge' ? 29502 : 29503, token, train, coordinatorFlags: ['--join-grace-ms', '60000'] });
      const all = (): Run[] => [coord, ...workers];
      const fail = (e: Error) => {
        throw new Error(`${e.message}\n${story(all())}`);
      };
      const cw = workers[2];
      try {
        await waitFor(() => generations(coord.stderr).some((g) => g.worldSize === 3) && lastStep(out) >= 5, 90_000, 'step 5 with 3 workers').catch(fail);

        // Cut: host c's bridge port (packets dropped silently) or its own interface (sends fail) goes down. Its process
        // and sockets stay.
        const tCut = Date.now();
        n.cut('c', side);
        await waitFor(() => generations(coord.stderr).some((g) => g.t >= tCut && g.worldSize === 2), 30_000, 'a generation of the 2 hosts left').catch(fail);
        const two = generations(coord.stderr).find((g) => g.t >= tCut && g.worldSize === 2)!;
        assert.ok(!two.peers.some((p) => p.startsWith(`${c.addr}:`)), JSON.stringify(two));
        await waitFor(() => lastStep(out) >= two.step + 20, 60_000, `step ${two.step + 20}: 20 steps without host c`).catch(fail);
        // c noticed too (heartbeats and its re-join fail), and waits to re-join rather than exiting.
        await waitFor(() => /coordinator unreachable/.test(cw.stderr), 30_000, 'host c to notice it lost the coordinator').catch(fail);
        // Long enough for c's connections to back off (TCP retransmits, gRPC reconnects) before the link comes back.
        await new Promise((r) => setTimeout(r, Math.max(0, tCut + MIN_CUT_MS - Date.now())));
        assert.ok(alive(cw.proc.pid!), `the worker on host c exited while cut off:\n${story([cw])}`);
        const cutMs = Date.now() - tCut;

        // Restore: c's next Join reaches the coordinator, which admits it at a step boundary.
        const tBack = Date.now();
        n.restore('c');
        await waitFor(() => generations(coord.stderr).some((g) => g.t >= tBack && g.worldSize === 3), 60_000, 'a generation of 3 after the link came back').catch(fail);
        const three = generations(coord.stderr).find((g) => g.t >= tBack && g.worldSize === 3)!;
        assert.match(qdiscOf(c), /tbf .*rate 1Gbit/, 'the tbf limit outlived the link going down and up');
        assert.ok(three.peers.some((p) => p.startsWith(`${c.addr}:`)), JSON.stringify(three));
        await waitFor(() => lastStep(out) >= three.step + 10, 60_000, `step ${three.step + 10}: 10 steps with host c back`).catch(fail);

        process.kill(-coord.proc.pid!, 'SIGTERM');
        const results = await Promise.all(workers.map((w) => w.done));
        const cr = await coord.done;
        assert.deepEqual(results.map((r) => r.code), [0, 0, 0], story(all()));
        assert.equal(cr.code, 0, story(all()));
        const fin = results.map(finished);
        assert.ok(fin.every(Boolean), story(all()));
        assert.equal(new Set(fin.map((f) => f!.step)).size, 1, JSON.stringify(fin));
        assert.equal(new Set(fin.map((f) => f!.digest)).size, 1, `replicas differ: ${JSON.stringify(fin)}`);
        assert.ok(logLines(cw.stderr).some((l) => l.msg === 'joined a new generation' && l.worldSize === 3), 'host c did not re-join');

        // metrics.jsonl, written by whichever worker was rank 0: every step in order, none missing (a step rank 0
        // logged just before it was cut off may come again); world size 3, then 2, then 3.
        const rows = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
        rows.forEach((r, i) => assert.ok(i === 0 ? r.step === 1 : r.step === rows[i - 1].step + 1 || r.step === rows[i - 1].step,
          `metrics.jsonl row ${i + 1} is step ${r.step} after ${rows[i - 1]?.step}`));
        const sizes = rows.map((r) => r.world_size).filter((s, i, v) => i === 0 || s !== v[i - 1]);
        assert.deepEqual(sizes, [3, 2, 3]);
        assert.equal(rows.at(-1).step, fin[0]!.step);
        t.diagnostic(`host c cut (${how}) at step ${two.step} for ${cutMs} ms: re-formed without it after ${two.t - tCut} ms, `
          + `${three.step - two.step} steps on 2 hosts; re-joined ${three.t - tBack} ms after the link came back (step ${three.step}); finished at step ${fin[0]!.step}`);
      } finally {
        try {
          n.restore('c');
        } catch {
          /* the network is gone */
        }
      }
    });
  }
});
