// The coordinator against the attacks of the security issue, in-process over real gRPC on 127.0.0.1: each attack
// is tried without the run token (refused UNAUTHENTICATED before any handler), and where the attack is a protocol
// flaw, also by a caller holding the token, which the coordinator's own checks must stop. In each case the honest
// workers' generation forms as it should.
// Run: node tools/run-tests.mjs libs/distributed coordinator-security
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import { after, test } from 'node:test';
import { RunCredentials, RunSecret } from '@gan/auth';
import { DEFAULT_CONFIG, fingerprint, validateConfig, type TrainConfig } from '@gan/config';
import type { JoinReply__Output } from '@gan/proto';
import { CoordinatorServer } from './coordinator-server';
import { coordinatorClient } from './rpc';

const SECRET = RunSecret.fromText('c0ffee'.repeat(8), 'test');
const AUTH = RunCredentials.of(SECRET);
const NONE = RunCredentials.insecure();
const servers: CoordinatorServer[] = [];
const clients: grpc.Client[] = [];
after(async () => {
  clients.forEach((c) => c.close());
  for (const s of servers) await s.close();
});

const quiet = { info() {}, warn() {}, error() {} };
const warnings: string[] = [];

function configOf(o: Partial<TrainConfig> = {}): TrainConfig {
  return validateConfig({ ...DEFAULT_CONFIG, workers: 2, heartbeatMs: 500, steps: 1000, ...o });
}

async function coordinator(config: TrainConfig, credentials = AUTH): Promise<CoordinatorServer> {
  const s = new CoordinatorServer({
    config, credentials, listen: '127.0.0.1:0', joinTimeoutMs: 30_000, joinGraceMs: 200,
    logger: { ...quiet, warn: (_o: object, m?: string) => void warnings.push(m ?? '') },
  });
  servers.push(s);
  await s.start();
  return s;
}

type Result<T> = { code: number; details: string; value?: T };
function rpc<T>(s: CoordinatorServer, creds: RunCredentials, method: string, req: object, timeoutMs = 5000): Promise<Result<T>> {
  const c = coordinatorClient(s.address, creds);
  clients.push(c);
  return new Promise((res) => {
    (c as any)[method](req, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, value?: T) =>
      res(err ? { code: err.code, details: err.details } : { code: 0, details: '', value }));
  });
}

const joinReq = (config: TrainConfig, id: string, port: number, extra: object = {}) => ({
  worker_id: id, advertise_address: `127.0.0.1:${port}`, data: { port: port + 1, path: '', host_id: '' }, config_fingerprint: fingerprint(config), config_json: JSON.stringify(config),
  committed_step: -1, ...extra,
});

test('attack 1: a forged "still training" Join cannot make a fresh coordinator adopt a made-up generation', { timeout: 20_000 }, async () => {
  const config = configOf();
  const s = await coordinator(config);
  const forged = joinReq(config, 'evil', 6666, { still_training: true, generation: 7, rank: 0, world_size: 2, peers: ['127.0.0.1:6666', '127.0.0.1:6667'] });
  assert.equal((await rpc(s, NONE, 'Join', forged)).code, grpc.status.UNAUTHENTICATED);
  // Even holding the token, a generation needs the ticket this run's coordinator signed.
  const withToken = await rpc(s, AUTH, 'Join', forged);
  assert.equal(withToken.code, grpc.status.PERMISSION_DENIED);
  assert.equal(s.status().state, 'waiting');
  const [a, b] = await Promise.all([rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w0', 5000)), rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w1', 5001))]);
  assert.equal(a.code, 0, a.details);
  assert.equal(b.code, 0, b.details);
  assert.equal(a.value!.generation, 1);
  assert.deepEqual([a.value!.rank, b.value!.rank].sort(), [0, 1]);
  assert.equal(a.value!.ticket.length, 32, 'the reply carries the generation ticket');
  assert.equal((a.value as unknown as Record<string, unknown>).config_json, undefined, 'the reply carries no config');
});

test('a restarted coordinator adopts a generation with its ticket, and only with it', { timeout: 20_000 }, async () => {
  const config = configOf();
  const first = await coordinator(config);
  const [a, b] = await Promise.all([rpc<JoinReply__Output>(first, AUTH, 'Join', joinReq(config, 'w0', 5100)), rpc<JoinReply__Output>(first, AUTH, 'Join', joinReq(config, 'w1', 5101))]);
  const again = await coordinator(config);
  const reg = (r: JoinReply__Output, id: string, ticket: Buffer) => rpc<JoinReply__Output>(again, AUTH, 'Join', joinReq(config, id, 5100 + r.rank, {
    still_training: true, generation: r.generation, rank: r.rank, world_size: r.world_size, peers: r.peers, ticket,
  }));
  const tampered = Buffer.from(a.value!.ticket);
  tampered[0] ^= 1;
  assert.equal((await reg(a.value!, 'w0', tampered)).code, grpc.status.PERMISSION_DENIED);
  const ok = await reg(a.value!, 'w0', a.value!.ticket);
  assert.equal(ok.code, 0, ok.details);
  assert.equal(ok.value!.generation, a.value!.generation);
  assert.equal((await reg(b.value!, 'w1', b.value!.ticket)).code, 0);
  assert.equal(again.status().state, 'training');
});

test('attack 2: Shutdown needs the token; Leave with an empty worker id speaks for nobody', { timeout: 20_000 }, async () => {
  const config = configOf();
  const s = await coordinator(config);
  assert.equal((await rpc(s, NONE, 'Shutdown', { reason: 'attacker' })).code, grpc.status.UNAUTHENTICATED);
  assert.equal((await rpc(s, NONE, 'GetStatus', {})).code, grpc.status.UNAUTHENTICATED);
  assert.equal(s.status().state, 'waiting');
  await Promise.all([rpc(s, AUTH, 'Join', joinReq(config, 'w0', 5200)), rpc(s, AUTH, 'Join', joinReq(config, 'w1', 5201))]);
  const leave = await rpc(s, AUTH, 'Leave', { worker_id: '', generation: 1, failed: true, reason: 'forged', step: 0 });
  assert.equal(leave.code, grpc.status.INVALID_ARGUMENT);
  assert.equal((await rpc(s, NONE, 'Leave', { worker_id: 'w0', generation: 1, failed: true, reason: 'forged', step: 0 })).code, grpc.status.UNAUTHENTICATED);
  assert.equal(s.status().state, 'training');
});

test('attack 3: in an elastic run a joiner claiming a huge committed step does not become rank 0', { timeout: 20_000 }, async () => {
  const config = configOf({ workers: 3, minWorkers: 2 });
  const s = await coordinator(config);
  const p0 = rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w0', 5300));
  const p1 = rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w1', 5301));
  const [a, b] = await Promise.all([p0, p1]); // two of three: formed after the grace period
  assert.equal(a.code, 0, a.details);
  for (const [id, r] of [['w0', a], ['w1', b]] as const) {
    const rep = await rpc(s, AUTH, 'ReportStep', { worker_id: id, generation: 1, rank: r.value!.rank, step: 40 });
    assert.equal(rep.code, 0, rep.details);
  }
  // The newcomer waits for the step boundary; the members re-join (as after a reform request) with their real step.
  const evil = rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'evil', 5399, { committed_step: 999_999_999 }), 10_000);
  await new Promise((r) => setTimeout(r, 100));
  const [ra, rb] = await Promise.all([
    rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w0', 5300, { committed_step: 40, generation: 1 }), 10_000),
    rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w1', 5301, { committed_step: 40, generation: 1 }), 10_000),
  ]);
  const e = await evil;
  assert.equal(e.code, 0, e.details);
  assert.equal(ra.value!.generation, 2);
  const rank0 = [ra, rb, e].find((r) => r.value!.rank === 0)!;
  assert.notEqual(rank0, e, 'the claimant became rank 0');
  assert.equal(e.value!.rank, 2, 'a newcomer ranks after the survivors');
});

test('attack 7: a wrong config without the token learns nothing; with it, fields are named', { timeout: 20_000 }, async () => {
  const config = configOf();
  const s = await coordinator(config);
  const theirs = configOf({ dataRoot: '/secret/path/of/the/attacker', lr: 0.5 });
  const anon = await rpc(s, NONE, 'Join', joinReq(theirs, 'x', 5400));
  assert.equal(anon.code, grpc.status.UNAUTHENTICATED);
  assert.equal(anon.details, 'missing or wrong run token');
  const member = await rpc(s, AUTH, 'Join', joinReq(theirs, 'x', 5400));
  assert.equal(member.code, grpc.status.FAILED_PRECONDITION);
  assert.match(member.details, /config field 'lr' differs/);
  assert.match(member.details, /coordinator 0\.0002, worker 0\.5/, 'a caller holding the secret sees both values');
  // An insecure coordinator names fields but never its values.
  const open = await coordinator(configOf({ lr: 0.000123 }), NONE);
  const r = await rpc(open, NONE, 'Join', joinReq(configOf(), 'x', 5401));
  assert.equal(r.code, grpc.status.FAILED_PRECONDITION);
  assert.match(r.details, /config field 'lr' differs/);
  assert.doesNotMatch(r.details, /0\.000123/);
});

test('Join flood from one host: refused RESOURCE_EXHAUSTED past the burst, the honest workers still join', { timeout: 20_000 }, async () => {
  const config = configOf();
  const s = await coordinator(config);
  // Joins that would be refused anyway (another config) so that the flood itself cannot form a generation.
  const other = configOf({ lr: 0.5 });
  const flood = await Promise.all(Array.from({ length: 60 }, (_, i) => rpc(s, AUTH, 'Join', joinReq(other, `f${i}`, 5500 + i), 2000)));
  const refused = flood.filter((r) => r.code === grpc.status.RESOURCE_EXHAUSTED).length;
  assert.ok(refused >= 20, `only ${refused} of 60 flood calls were refused`);
  // After the bucket refills (8/s) an honest pair from the same host still forms.
  await new Promise((r) => setTimeout(r, 1200));
  const [a, b] = await Promise.all([rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w0', 5600)), rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w1', 5601))]);
  assert.equal(a.code, 0, a.details);
  assert.equal(b.code, 0, b.details);
});

test('a Join without a usable data endpoint is refused INVALID_ARGUMENT; the honest pair still forms', { timeout: 20_000 }, async () => {
  const config = configOf();
  const s = await coordinator(config);
  for (const data of [undefined, { port: 0, path: '', host_id: '' }, { port: 70_000, path: '', host_id: '' }, { port: 5, path: 'x'.repeat(200), host_id: '' }]) {
    const r = await rpc(s, AUTH, 'Join', { ...joinReq(config, 'bad', 5700), data });
    assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `${JSON.stringify(data)}: ${r.details}`);
    assert.match(r.details, /Join needs the worker's data endpoint/);
  }
  const [a, b] = await Promise.all([rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w0', 5800)), rpc<JoinReply__Output>(s, AUTH, 'Join', joinReq(config, 'w1', 5801))]);
  assert.equal(a.code, 0, a.details);
  assert.equal(b.code, 0, b.details);
  assert.equal(a.value!.data.length, 2);
});

test('attack 5: a 4 GiB length prefix is refused without the coordinator buffering it', { timeout: 15_000 }, async () => {
  const s = await coordinator(configOf());
  const session = http2.connect(`http://${s.address}`);
  session.on('error', () => {});
  const stream = session.request({
    ':method': 'POST', ':path': '/gan.coordinator.v1.Coordinator/GetStatus', 'content-type': 'application/grpc', te: 'trailers',
    authorization: `Bearer ${SECRET.rpcToken}`,
  });
  stream.on('error', () => {});
  // Refused either way: a trailers-only RESOURCE_EXHAUSTED status, or (when bytes keep coming) an HTTP/2 reset.
  const ended = new Promise<{ grpcStatus?: number; rst?: number }>((res) => {
    stream.on('response', (h) => h['grpc-status'] !== undefined && res({ grpcStatus: Number(h['grpc-status']) }));
    stream.on('trailers', (h) => res({ grpcStatus: Number(h['grpc-status']) }));
    stream.on('close', () => res({ rst: stream.rstCode }));
  });
  const head = Buffer.alloc(5);
  head.writeUInt32BE(0xffff_fff0, 1);
  stream.write(head);
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < 64; i++) stream.write(zeros);
  const end = await ended;
  assert.ok(end.grpcStatus === grpc.status.RESOURCE_EXHAUSTED || end.rst === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, JSON.stringify(end));
  session.destroy(); // unsent bytes would keep a gracefully closing session (and this process) alive
  const after = await rpc(s, AUTH, 'GetStatus', {});
  assert.equal(after.code, 0, 'the coordinator still answers');
});
