// The collective with a run secret (and TLS), over real sockets on 127.0.0.1: honest ranks reduce on every path
// (data link over TCP and a Unix socket, gRPC Pull); an attacker without the secret gets nothing — its gRPC calls end
// UNAUTHENTICATED, its HELLO is refused unless MAC'd under the generation's link key (derived from the run secret,
// the generation and the group's link nonce: a key of another secret, another nonce, or the run secret itself does
// not do), its idle connections are closed at the HELLO deadline and beyond the connection cap — and the honest ranks
// still reduce afterwards. A rank holding another secret, or given another link nonce, or a certificate from another
// CA, cannot join the ring.
// Run: node tools/run-tests.mjs libs/collective secured-links
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { checkWelcomeMac, haveOpenssl, helloMac, makeTestCertificates, newNonce, RunCredentials, RunSecret, type HelloFields, type TlsFiles } from '@gan/auth';
import { Collective, type ListenOptions, type Logger } from './collective';
import { codecs, collectiveService, frame, FRAME, onFrames } from './testing/frames';

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

const SECRET = RunSecret.fromText('0123456789abcdef'.repeat(4), 'test');
const OTHER = RunSecret.fromText('fedcba9876543210'.repeat(4), 'test');
const N = 10_000;

/** A logger that keeps what the collective said. */
function recorder(): Logger & { lines: { obj: any; msg?: string }[] } {
  const lines: { obj: any; msg?: string }[] = [];
  const rec = (obj: unknown, msg?: string) => void lines.push({ obj, msg });
  return { lines, info: rec, warn: rec, error: rec, debug: rec };
}

async function rank(creds: RunCredentials, o: Partial<ListenOptions> = {}, jobId = creds.jobId('none')) {
  const log = recorder();
  const c = await Collective.listen({ jobId, credentials: creds, logger: log, opTimeoutMs: 3000, stallWarnMs: 3000, chunkBytes: 4096, ...o });
  cleanup.push(() => c.close());
  // The data port is also in 'collective listening': the log and the endpoint the coordinator would list agree.
  const dataPort = c.dataEndpoint.port;
  assert.equal(Number(log.lines.find((l) => l.msg === 'collective listening')!.obj.dataPort), dataPort);
  return { c, log, dataPort };
}

type Ranks = Awaited<ReturnType<typeof rank>>[];

/** The group of generation 1 over these ranks; `linkNonce` per rank (default: one fresh nonce for all). */
function setRing(rs: Ranks, linkNonce: Uint8Array | ((rank: number) => Uint8Array) = newNonce()): void {
  const peers = rs.map((r) => r.c.address);
  const data = rs.map((r) => r.c.dataEndpoint);
  rs.forEach((r, i) => r.c.setGroup({ rank: i, worldSize: rs.length, peers, generation: 1, data, linkNonce: typeof linkNonce === 'function' ? linkNonce(i) : linkNonce }));
}

async function ring(creds: RunCredentials[], o: Partial<ListenOptions> = {}, jobId?: string, linkNonce?: Uint8Array | ((rank: number) => Uint8Array)) {
  const rs = await Promise.all(creds.map((cr) => rank(cr, o, jobId)));
  setRing(rs, linkNonce);
  return rs;
}

/** Every rank reduces rank-dependent data; each must hold the exact sum. */
async function reduceOk(rs: { c: Collective }[]): Promise<void> {
  const bufs = rs.map((_, r) => Float32Array.from({ length: N }, (_, i) => (i % 97) + r));
  await Promise.all(rs.map((r, i) => r.c.allReduce(bufs[i], { op: 'sum' })));
  const want = Float32Array.from({ length: N }, (_, i) => rs.length * (i % 97) + (rs.length * (rs.length - 1)) / 2);
  bufs.forEach((b) => assert.deepEqual(b, want));
}

const PATHS: [string, Partial<ListenOptions>][] = [
  ['data link over TCP', { transport: 'tcp', unixSocket: false }],
  ['data link over a Unix socket', { transport: 'tcp', unixSocket: true }],
  ['gRPC Pull', { transport: 'grpc' }],
];

for (const [name, o] of PATHS) {
  test(`with a run secret, three ranks reduce over the ${name}`, { timeout: 20_000 }, async () => {
    const rs = await ring([0, 1, 2].map(() => RunCredentials.of(SECRET)), o);
    await reduceOk(rs);
    await reduceOk(rs); // the second op reuses the authenticated connections
    if (o.transport === 'tcp') {
      for (const r of rs) assert.ok(r.log.lines.some((l) => l.msg === 'collective: data channel to predecessor open'), 'a data link was used');
    }
  });

  test(`a rank holding another secret cannot join the ring (${name}); the honest ranks are not fooled`, { timeout: 20_000 }, async () => {
    // Same job id on purpose: only the secret differs.
    const rs = await ring([RunCredentials.of(SECRET), RunCredentials.of(OTHER)], { ...o, opTimeoutMs: 1500 }, SECRET.jobId);
    const results = await Promise.allSettled(rs.map((r) => r.c.allReduce(new Float32Array(N).fill(1), { op: 'sum' })));
    assert.ok(results.every((x) => x.status === 'rejected'), 'no rank completed an op with an impostor');
    const impostor = (results[1] as PromiseRejectedResult).reason as Error;
    assert.match(impostor.message, /not authenticated|UNAUTHENTICATED|missing or wrong run token|did not prove/i);
  });
}

function grpcClient(address: string) {
  const Client = grpc.makeGenericClientConstructor(collectiveService(), 'C');
  const client = new Client(address, grpc.credentials.createInsecure());
  cleanup.push(() => client.close());
  return client as any;
}

test('without the token: Probe and a Pull for a future op are UNAUTHENTICATED, and the real successor is served', { timeout: 20_000 }, async () => {
  const rs = await ring([RunCredentials.of(SECRET), RunCredentials.of(SECRET)], { transport: 'grpc' });
  const attacker = grpcClient(rs[0].c.address);
  const probe = await new Promise<grpc.ServiceError>((res) => attacker.Probe({ job_id: SECRET.jobId, from_rank: 1 }, { deadline: Date.now() + 5000 }, res));
  assert.equal(probe.code, grpc.status.UNAUTHENTICATED);
  // A Pull for op #1 of generation 1 as rank 1, before rank 1 asks: the slot the real successor needs.
  const pull = await new Promise<grpc.ServiceError>((res) => {
    const call = attacker.Pull({ job_id: SECRET.jobId, generation: '1', seq: '1', from_rank: 1, to_rank: 0, world_size: 2, length: String(N), chunk_elems: 1024 });
    call.on('error', res);
    call.on('data', () => res(new Error('the attacker received gradient data') as grpc.ServiceError));
  });
  assert.equal(pull.code, grpc.status.UNAUTHENTICATED);
  assert.equal(pull.details, 'missing or wrong run token');
  await reduceOk(rs);
});

const LINK_KEY_LABEL = 'gan-train/link-key/v1';
/** The link key of generation 1 for a group given `nonce`, as the ranks derive it from `secret`. */
const linkKey = (secret: RunSecret, nonce: Uint8Array) => secret.derive(LINK_KEY_LABEL, 1, nonce);

/**
 * A raw client's handshake with a data server: on its CHALLENGE, a HELLO for generation 1 of SECRET's job from
 * `fromRank`, MAC'd under `key` (or 32 random bytes). Resolves at close with the frames it got (a STATUS decoded),
 * and whether a WELCOME proved the server holds `key`.
 */
async function helloWith(port: number, key: RunSecret | 'random', fromRank: number) {
  const sock = net.connect({ host: '127.0.0.1', port });
  cleanup.push(() => sock.destroy());
  sock.on('error', () => {});
  const got: [number, any][] = [];
  let fields: HelloFields | undefined;
  let welcomed = false;
  onFrames(sock, (t, body) => {
    got.push([t, t === FRAME.STATUS ? codecs.status.decode(body) : body.length]);
    if (t === FRAME.CHALLENGE) {
      const serverNonce = Buffer.from(codecs.challenge.decode(body).nonce);
      fields = { jobId: SECRET.jobId, generation: 1, rank: fromRank, serverNonce, clientNonce: newNonce() };
      const mac = key === 'random' ? Buffer.alloc(32, 1) : helloMac(key, fields);
      sock.write(frame(FRAME.HELLO, codecs.hello.encode({ job_id: SECRET.jobId, from_rank: fromRank, generation: '1', nonce: fields.clientNonce, mac })));
    } else if (t === FRAME.WELCOME && key !== 'random') welcomed = checkWelcomeMac(key, fields!, codecs.welcome.decode(body).mac);
  });
  await new Promise<void>((res) => sock.once('close', () => res()));
  return { types: got.map(([t]) => t), status: got.find(([t]) => t === FRAME.STATUS)?.[1], welcomed };
}

/** The HELLO was refused for its MAC: one UNAUTHENTICATED status after the challenge, naming nothing of the run. */
function refusedUnauthenticated(r: Awaited<ReturnType<typeof helloWith>>, what: string): void {
  assert.deepEqual(r.types, [FRAME.CHALLENGE, FRAME.STATUS], `${what}: frames ${r.types}`);
  assert.equal(r.status.seq, '0', what);
  assert.equal(r.status.code, grpc.status.UNAUTHENTICATED, `${what}: ${r.status.details}`);
  assert.equal(r.status.details, 'data link: HELLO not authenticated', what);
}

/**
 * The control: a HELLO MAC'd under the right link key passes (WELCOME, with the server's proof under that key).
 * It comes from rank 0, not rank 0's successor, so rank 0 then closes the connection without displacing its real
 * successor's; the MAC is checked before the rank.
 */
async function acceptedUnderLinkKey(port: number, key: RunSecret): Promise<void> {
  const r = await helloWith(port, key, 0);
  assert.deepEqual(r.types, [FRAME.CHALLENGE, FRAME.WELCOME], `a HELLO under the link key got frames ${r.types}: ${r.status?.details}`);
  assert.ok(r.welcomed, 'the WELCOME did not prove the server holds the link key');
}

test('data port: a forged HELLO gets one UNAUTHENTICATED status and nothing else; the ranks still reduce', { timeout: 20_000 }, async () => {
  const nonce = newNonce();
  const rs = await ring([RunCredentials.of(SECRET), RunCredentials.of(SECRET)], {}, undefined, nonce);
  const port = rs[0].dataPort;
  // Everything in these HELLOs is what rank 0's real successor would send, but the key their MAC is under.
  refusedUnauthenticated(await helloWith(port, 'random', 1), 'a HELLO with a made-up MAC');
  refusedUnauthenticated(await helloWith(port, SECRET, 1), 'a HELLO MAC\'d under the run secret itself');
  refusedUnauthenticated(await helloWith(port, linkKey(OTHER, nonce), 1), 'a HELLO MAC\'d under another secret\'s link key');
  refusedUnauthenticated(await helloWith(port, SECRET.derive(LINK_KEY_LABEL, 2, nonce), 1), 'a HELLO MAC\'d under another generation\'s link key');
  await acceptedUnderLinkKey(port, linkKey(SECRET, nonce));
  assert.ok(rs[0].log.lines.some((l) => l.msg?.startsWith('collective: refused a data connection')), 'the refusal was logged');
  await reduceOk(rs);
});

test('the link key binds the group\'s link nonce: a HELLO under another nonce\'s key is refused; ranks given one nonce reduce', { timeout: 20_000 }, async () => {
  const nonce = newNonce();
  const otherNonce = newNonce();
  const rs = await ring([RunCredentials.of(SECRET), RunCredentials.of(SECRET)], {}, undefined, nonce);
  await reduceOk(rs);
  refusedUnauthenticated(await helloWith(rs[0].dataPort, linkKey(SECRET, otherNonce), 1), 'a HELLO under the link key of another nonce');
  await acceptedUnderLinkKey(rs[0].dataPort, linkKey(SECRET, nonce));
  await reduceOk(rs);
  // Ranks given different nonces (a stale or forged group) hold different link keys: no op completes.
  const split = await ring([RunCredentials.of(SECRET), RunCredentials.of(SECRET)], { opTimeoutMs: 1500 }, undefined, (r) => (r === 0 ? nonce : otherNonce));
  const results = await Promise.allSettled(split.map((r) => r.c.allReduce(new Float32Array(N).fill(1), { op: 'sum' })));
  assert.ok(results.every((x) => x.status === 'rejected'), 'an op completed between ranks given different link nonces');
  for (const x of results) assert.match(((x as PromiseRejectedResult).reason as Error).message, /not authenticated|did not prove/);
});

test('data port: silent connections are closed at the HELLO deadline, and those beyond the cap at once', { timeout: 30_000 }, async () => {
  // No group yet, so no rank holds a data connection of its own to rank 0: the cap counts the test's alone.
  const rs = await Promise.all([0, 1].map(() => rank(RunCredentials.of(SECRET), { opTimeoutMs: 2000 })));
  const closedOrder: number[] = [];
  const closed: Promise<void>[] = [];
  for (let i = 0; i < 70; i++) {
    const s = net.connect({ host: '127.0.0.1', port: rs[0].dataPort });
    s.on('error', () => {});
    s.resume(); // read the CHALLENGE, or its unread bytes keep the server's FIN from surfacing as 'close'
    closed.push(new Promise<void>((res) => s.once('close', () => {
      closedOrder.push(i);
      res();
    })));
    cleanup.push(() => s.destroy());
    await new Promise<void>((res) => {
      s.once('connect', () => res());
      s.once('close', () => res());
    });
  }
  await Promise.all(closed);
  // The 6 over the cap of 64 went first; the 64 admitted ones were closed by the HELLO deadline, not by the test.
  assert.deepEqual(closedOrder.slice(0, 6).sort((a, b) => a - b), [64, 65, 66, 67, 68, 69]);
  assert.equal(closedOrder.length, 70);
  setRing(rs);
  await reduceOk(rs);
});

const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-tls-'));
cleanup.push(() => fs.rmSync(tlsDir, { recursive: true, force: true }));
// In CI (.ci/run installs openssl) a missing openssl fails the TLS tests instead of skipping them.
const TLS_SKIP = haveOpenssl() || process.env.CI ? false : 'openssl is not installed (needed to make test certificates)';
let certs: Record<string, TlsFiles> = {};
let strangers: Record<string, TlsFiles> = {};
if (!TLS_SKIP) {
  certs = makeTestCertificates(path.join(tlsDir, 'run'), ['a', 'b']);
  strangers = makeTestCertificates(path.join(tlsDir, 'other-ca'), ['x']);
}

for (const [name, o] of [PATHS[0], PATHS[2]]) {
  test(`mutual TLS + run secret: two ranks reduce over the ${name}; a certificate from another CA is refused`, { timeout: 30_000, skip: TLS_SKIP }, async () => {
    const rs = await ring([RunCredentials.of(SECRET, certs.a), RunCredentials.of(SECRET, certs.b)], o);
    await reduceOk(rs);
    const bad = await ring([RunCredentials.of(SECRET, certs.a), RunCredentials.of(SECRET, strangers.x)], { ...o, opTimeoutMs: 1500 });
    const results = await Promise.allSettled(bad.map((r) => r.c.allReduce(new Float32Array(N), { op: 'sum' })));
    assert.ok(results.every((x) => x.status === 'rejected'), 'no op completes across two CAs');
  });
}
