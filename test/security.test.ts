/**
 * The security issue's attacks and a fuzz run against a real run: `gan-train coordinator` and two `gan-train worker`
 * processes with a token file on 127.0.0.1, attacked by this test process, which has no secret. Each attack must
 * fail, every port gets ≥ 10,000 random and mutated frames, no process crashes or grows without bound, and the honest
 * run trains on through all of it and stops in order with bit-identical replicas. A worker holding another secret is
 * refused at the door.
 * Run: node tools/run-tests.mjs test security
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { haveOpenssl, makeTestCertificates, RunCredentials, RunSecret } from '@gan/auth';
import { coordinatorClient } from '@gan/distributed';
import { loadDefinition } from '@gan/proto';
import { alive, killAll, logLines, runCli, startCli, TINY_DCGAN, tmpDir, waitFor, type Run } from './helpers';

after(killAll);

const FRAMES_PER_PORT = 10_000;
const NONE = RunCredentials.insecure();

/** A small deterministic generator (xorshift32): the fuzz is the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
  };
}
type Rng = ReturnType<typeof rng>;

/** `valid` with a few bytes flipped, cut short, extended, or its length prefix changed. */
function mutate(r: Rng, valid: Buffer): Buffer {
  const b = Buffer.from(valid);
  switch (r.int(4)) {
    case 0:
      for (let k = 0; k < 1 + r.int(4); k++) if (b.length) b[r.int(b.length)] ^= 1 << r.int(8);
      return b;
    case 1:
      return b.subarray(0, r.int(b.length + 1));
    case 2:
      return Buffer.concat([b, r.bytes(1 + r.int(64))]);
    default:
      if (b.length >= 5) b.writeUInt32BE(r.int(2 ** 32), 1);
      return b;
  }
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** gRPC length-prefixed message. */
const grpcMessage = (body: Buffer) => {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(body.length, 1);
  return Buffer.concat([h, body]);
};

/** n HTTP/2 requests with random and mutated gRPC messages to random methods of a server, 32 in flight. */
async function fuzzGrpc(address: string, paths: string[], valid: Buffer[], n: number, seed: number): Promise<Record<string, number>> {
  const r = rng(seed);
  const outcomes: Record<string, number> = {};
  let session: http2.ClientHttp2Session | undefined;
  const open = () => {
    if (!session || session.closed || session.destroyed) {
      session = http2.connect(`http://${address}`);
      session.on('error', () => {});
    }
    return session;
  };
  const one = (i: number) =>
    new Promise<void>((res) => {
      const p = r.int(10) === 0 ? `/${r.bytes(8).toString('hex')}/${r.bytes(4).toString('hex')}` : paths[r.int(paths.length)];
      const kind = r.int(3);
      const body = kind === 0 ? r.bytes(r.int(200)) : kind === 1 ? grpcMessage(r.bytes(r.int(200))) : mutate(r, grpcMessage(valid[i % valid.length]));
      let s: http2.ClientHttp2Stream;
      try {
        s = open().request({ ':method': 'POST', ':path': p, 'content-type': 'application/grpc', te: 'trailers' });
      } catch {
        session = undefined;
        outcomes['session-closed'] = (outcomes['session-closed'] ?? 0) + 1;
        return res();
      }
      const done = (k: string) => {
        outcomes[k] = (outcomes[k] ?? 0) + 1;
        res();
      };
      let status = '';
      s.on('response', (h) => (status = String(h['grpc-status'] ?? status)));
      s.on('trailers', (h) => (status = String(h['grpc-status'] ?? status)));
      s.on('error', () => {});
      s.on('close', () => done(status ? grpc.status[Number(status)] ?? status : `reset ${s.rstCode}`));
      s.setTimeout(5000, () => s.close(http2.constants.NGHTTP2_CANCEL));
      s.end(body);
    });
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < n) await one(next++);
  }));
  session?.destroy();
  return outcomes;
}

/** n frames ([u32 LE length][u8 type][body]) over raw connections to a data port: random, mutated HELLOs, lies. */
async function fuzzData(port: number, n: number, seed: number): Promise<number> {
  const r = rng(seed);
  let sent = 0;
  let connections = 0;
  const lane = async () => {
    while (sent < n) {
      connections++;
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.on('error', () => {});
      sock.resume();
      await new Promise<void>((res) => {
        sock.once('connect', res);
        sock.once('close', res);
      });
      for (let k = 0; k < 50 && sent < n && !sock.destroyed; k++, sent++) {
        const body = r.bytes(r.int(120));
        const f = Buffer.alloc(5 + body.length);
        f.writeUInt32LE(r.int(4) === 0 ? r.int(2 ** 32) : body.length, 0);
        f[4] = r.int(8);
        body.copy(f, 5);
        sock.write(r.int(3) === 0 ? mutate(r, f) : f);
      }
      sock.end();
      await new Promise<void>((res) => {
        sock.once('close', res);
        setTimeout(() => {
          sock.destroy();
          res();
        }, 2000);
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return connections;
}

function unary<T>(client: grpc.Client, method: string, req: object): Promise<{ code: number; details: string; value?: T }> {
  return new Promise((res) => {
    (client as any)[method](req, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, value?: T) =>
      res(err ? { code: err.code, details: err.details } : { code: 0, details: '', value }));
  });
}

const COORD_PATHS = ['Join', 'Heartbeat', 'ReportStep', 'Leave', 'GetStatus', 'Shutdown'].map((m) => `/gan.coordinator.v1.Coordinator/${m}`);
const COLLECTIVE_PATHS = ['Pull', 'Probe'].map((m) => `/gan.collective.v1.Collective/${m}`);

test('an attacker without the run secret cannot stop, hijack, read or exhaust a run; fuzz on every port', { timeout: 400_000 }, async (t) => {
  const dir = tmpDir('security');
  const token = path.join(dir, 'run.token');
  assert.equal((await runCli(['token', '--out', token], { timeoutMs: 30_000 })).code, 0);
  assert.equal(fs.statSync(token).mode & 0o077, 0, 'the token file is readable by its owner only');
  // No GAN_TOKEN: the token file is the only secret these processes have.
  const env = { GAN_TOKEN: '' };
  const train = [...TINY_DCGAN, '--steps', '100000', '--checkpoint-every', '100000', '--sample-every', '0', '--op-timeout-ms', '4000'];
  const coord = startCli(['coordinator', '--listen', '127.0.0.1:0', '--workers', '2', '--token-file', token, ...train, '--out', path.join(dir, 'run')], { timeoutMs: 380_000, env });
  await waitFor(() => coord.stdout.includes('listening'), 60_000, 'the coordinator to listen');
  const address = JSON.parse(coord.stdout.split('\n')[0]).address as string;
  const workers: Run[] = [0, 1].map(() => startCli(['worker', '--coordinator', address, '--token-file', token, ...train, '--out', path.join(dir, 'run')], { timeoutMs: 380_000, env }));
  // Only rank 0 logs its steps.
  const stepOf = () => Math.max(...workers.map((w) => Math.max(0, ...logLines(w.stderr).filter((l) => typeof l.step === 'number' && l.msg !== 'joined').map((l) => l.step))));
  await waitFor(() => stepOf() >= 3, 120_000, 'both workers to train a few steps').catch((e) => {
    throw new Error(`${e.message}; worker stderr: ${workers.map((w) => w.stderr.slice(-1500)).join(' | ')}`);
  });
  const listening = workers.map((w) => logLines(w.stderr).find((l) => l.msg === 'collective listening')!);
  const pids = [coord.proc.pid!, ...workers.map((w) => w.proc.pid!)];
  const rss0 = pids.map(rssMiB);
  const startStep = stepOf();

  // A worker holding another secret is refused with a clear error, and the run is not disturbed.
  const other = path.join(dir, 'other.token');
  fs.writeFileSync(other, RunSecret.generateText(), { mode: 0o600 });
  const stranger = await runCli(['worker', '--coordinator', address, '--token-file', other, ...train], { timeoutMs: 60_000, env });
  assert.equal(stranger.code, 1);
  assert.match(stranger.stderr, /UNAUTHENTICATED/);

  const coordClient = coordinatorClient(address, NONE);
  const Collective = grpc.makeGenericClientConstructor(loadDefinition('collective')['gan.collective.v1.Collective'] as grpc.ServiceDefinition, 'C');
  const peer = new Collective(listening[0].address, grpc.credentials.createInsecure()) as grpc.Client;
  try {
    // 1. hijack a coordinator with a made-up running generation; 7. read the config through a wrong one
    const forged = { worker_id: 'evil', advertise_address: '127.0.0.1:1', data: { port: 2, path: '', host_id: '' }, config_fingerprint: 'x', config_json: '{}', committed_step: 999_999_999, still_training: true, generation: 7, rank: 0, world_size: 1, peers: ['127.0.0.1:1'] };
    assert.equal((await unary(coordClient, 'Join', forged)).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await unary(coordClient, 'Join', { ...forged, still_training: false })).code, grpc.status.UNAUTHENTICATED);
    // 2. stop the run; leave for a member
    assert.equal((await unary(coordClient, 'Shutdown', { reason: 'attacker' })).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await unary(coordClient, 'Leave', { worker_id: '', failed: true, reason: 'attacker' })).code, grpc.status.UNAUTHENTICATED);
    // 4. read gradients: register for a future op at a worker; probe it
    const pull = await new Promise<grpc.ServiceError>((res) => {
      const call = (peer as any).Pull({ job_id: 'x', generation: '1', seq: String(1e9), from_rank: 1, to_rank: 0, world_size: 2, length: '10', chunk_elems: 10 });
      call.on('error', res);
      call.on('data', () => res(new Error('the attacker received data') as grpc.ServiceError));
    });
    assert.equal(pull.code, grpc.status.UNAUTHENTICATED);
    assert.equal((await unary(peer, 'Probe', { job_id: 'x', from_rank: 1 })).code, grpc.status.UNAUTHENTICATED);

    // 5. memory: a 4 GiB length prefix and 256 MiB to a worker's Probe
    const before = rssMiB(pids[1]);
    const session = http2.connect(`http://${listening[0].address}`);
    session.on('error', () => {});
    const s = session.request({ ':method': 'POST', ':path': COLLECTIVE_PATHS[1], 'content-type': 'application/grpc', te: 'trailers' });
    s.on('error', () => {});
    const closed = new Promise((res) => s.on('close', res));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(0xffff_fff0, 1);
    s.write(head);
    const mib = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 256 && !s.destroyed; i++) s.write(mib);
    await closed;
    session.destroy();
    assert.ok(rssMiB(pids[1]) - before < 64, `worker RSS grew from ${before.toFixed(0)} to ${rssMiB(pids[1]).toFixed(0)} MiB`);

    // 6. hold sockets: 300 idle connections to a data port; all of them are closed by the server (cap, HELLO deadline)
    const held = await Promise.all(Array.from({ length: 300 }, () => new Promise<Promise<void>>((res) => {
      const c = net.connect({ host: '127.0.0.1', port: listening[0].dataPort });
      c.on('error', () => {});
      c.resume();
      const gone = new Promise<void>((g) => c.once('close', () => g()));
      c.once('connect', () => res(gone));
      c.once('close', () => res(gone));
    })));
    await Promise.all(held);

    // Fuzz: every port, ≥ 10,000 frames each.
    const join = loadDefinition('coordinator')['gan.coordinator.v1.Coordinator'] as grpc.ServiceDefinition;
    const validCoord = [Buffer.from(join.Join.requestSerialize(forged)), Buffer.from(join.GetStatus.requestSerialize({})), Buffer.from(join.Heartbeat.requestSerialize({ worker_id: 'w', generation: 1, step: 3 }))];
    const coll = loadDefinition('collective')['gan.collective.v1.Collective'] as grpc.ServiceDefinition;
    const validColl = [Buffer.from(coll.Probe.requestSerialize({ job_id: 'x', from_rank: 1 })), Buffer.from(coll.Pull.requestSerialize({ job_id: 'x', generation: '1', seq: '5', from_rank: 1 }))];
    const o1 = await fuzzGrpc(address, COORD_PATHS, validCoord, FRAMES_PER_PORT, 1);
    const o2 = await fuzzGrpc(listening[0].address, COLLECTIVE_PATHS, validColl, FRAMES_PER_PORT, 2);
    const conns = await fuzzData(listening[1].dataPort, FRAMES_PER_PORT, 3);
    t.diagnostic(`fuzz outcomes: coordinator ${JSON.stringify(o1)}; collective gRPC ${JSON.stringify(o2)}; data port ${conns} connections`);
    const served = (o: Record<string, number>) => (o.OK ?? 0);
    assert.equal(served(o1), 0, `an unauthenticated fuzz call succeeded: ${JSON.stringify(o1)}`);
    assert.equal(served(o2), 0, `an unauthenticated fuzz call succeeded: ${JSON.stringify(o2)}`);
    assert.ok(Object.values(o1).reduce((a, b) => a + b, 0) >= FRAMES_PER_PORT && conns > 0);

    // Nothing crashed, memory stayed bounded, and training went on.
    for (const pid of pids) assert.ok(alive(pid), `process ${pid} died`);
    t.diagnostic(`RSS MiB before → after: ${pids.map((pid, i) => `${rss0[i].toFixed(0)} → ${rssMiB(pid).toFixed(0)}`).join(', ')}`);
    pids.forEach((pid, i) => assert.ok(rssMiB(pid) - rss0[i] < 150, `process ${pid} grew from ${rss0[i].toFixed(0)} to ${rssMiB(pid).toFixed(0)} MiB`));
    const mid = stepOf();
    await waitFor(() => stepOf() > mid + 2, 120_000, 'training to go on after the fuzz');
    assert.ok(stepOf() > startStep);
  } finally {
    coordClient.close();
    peer.close();
  }

  // The operator (holding the secret) stops the run: an orderly stop, every rank at the same step and weights.
  const admin = coordinatorClient(address, RunCredentials.of(RunSecret.fromFile(token)));
  assert.equal((await unary(admin, 'Shutdown', { reason: 'test over' })).code, 0);
  admin.close();
  const results = await Promise.all(workers.map((w) => w.done));
  results.forEach((r) => assert.equal(r.code, 0, r.stderr.slice(-2000)));
  const fin = results.map((r) => logLines(r.stderr).find((l) => l.msg === 'worker finished')!);
  assert.equal(fin[0].step, fin[1].step);
  assert.equal(fin[0].digest, fin[1].digest);
  assert.equal((await coord.done).code, 0);
  // The coordinator logged the refusals once per host, not once per call.
  const refusals = logLines(coord.stderr).filter((l) => /refused a call without the run token/.test(l.msg ?? ''));
  assert.equal(refusals.length, 1, JSON.stringify(refusals));
});

test('gan-train local with mutual TLS: both planes, the heartbeat thread and the data link train over TLS', { timeout: 180_000, skip: haveOpenssl() || process.env.CI ? false : 'openssl is not installed (needed to make test certificates)' }, async () => {
  const dir = tmpDir('tls');
  const { node } = makeTestCertificates(path.join(dir, 'pki'), ['node']);
  const r = await runCli(['local', '--workers', '2', '--model', 'mlp', '--dataset', 'ring8', '--steps', '12', '--batch-size', '64',
    '--out', path.join(dir, 'run'), '--tls-cert', node.cert, '--tls-key', node.key, '--tls-ca', node.ca], { timeoutMs: 170_000 });
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const lines = logLines(r.stderr);
  const secured = lines.filter((l) => typeof l.security === 'string');
  assert.equal(secured.length, 3, 'the coordinator and both workers report their security');
  for (const l of secured) assert.match(l.security, /^run token \(GAN_TOKEN\), mutual TLS$/);
  const fin = lines.filter((l) => l.msg === 'worker finished');
  assert.equal(fin.length, 2);
  assert.equal(fin[0].digest, fin[1].digest);
  // A TLS run's heartbeats reached the coordinator (else it would have declared the workers dead and failed).
  assert.ok(lines.some((l) => l.msg === 'data channel to predecessor open' || l.msg === 'collective: data channel to predecessor open'));
});
