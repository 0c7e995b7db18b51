// The data link (transport 'tcp') against bad input over real sockets on 127.0.0.1: every failure is a clear,
// prompt rejection naming the peer, never a hang or a crash. A victim Collective (rank 1 of 2) connects to a fake
// predecessor's data server (testing/frames.ts: a raw frame-speaking net server, listed as rank 0's data endpoint in
// the group, no Unix socket) that pushes the victim's op an OPEN followed by malformed frames, an OPEN for another op,
// chunks then a dropped connection, an early or an abort STATUS; another job's data server refuses the victim's
// HELLO; the victim's predecessor endpoint has nobody listening. A raw client sends garbage (or anything after its
// HELLO) to a real rank's data server, and another job's HELLO, and is refused. Two real ranks, one reaching the
// other through a TCP proxy that cuts the connection inside an op, recover in the next generation on a fresh
// connection; a predecessor restarted on its old gRPC address (new data port and Unix socket) is reached in the next
// generation through the endpoint its group lists; and --data-port fixes the data server's TCP port.
// Run: node tools/run-tests.mjs libs/collective data-link
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { PullRequest } from '@gan/proto';
import { PHASE, type OutChunk } from './chunk-codec';
import { Collective, type DataEndpoint, type ListenOptions } from './collective';
import { DataServer, type SuccessorConnection } from './data-link';
import { CollectiveError } from './errors';
import { chunkRange, makePlan, recvSegment } from './ring-plan';
import { chunkFrame, codecs, fakePredecessor, frame, FRAME, onFrames, statusFrame, type FakeOptions, type FakePredecessor } from './testing/frames';

const JOB = 'dl-job';
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

// The op deadline is far beyond each test's timeout: a rejection that only the inactivity deadline produced would
// time the test out instead of passing.
const VICTIM: Partial<ListenOptions> = { opTimeoutMs: 30_000, stallWarnMs: 30_000, chunkBytes: 64, transport: 'tcp' };

async function fake(o: FakeOptions): Promise<FakePredecessor> {
  const f = await fakePredecessor(o);
  cleanup.push(() => f.close());
  return f;
}

async function listen(o: Partial<ListenOptions> = {}): Promise<Collective> {
  const c = await Collective.listen({ jobId: JOB, ...VICTIM, ...o });
  cleanup.push(() => c.close());
  return c;
}

/** A data endpoint on 127.0.0.1 (TCP only), as a group lists it. */
const tcpEndpoint = (port: number): DataEndpoint => ({ port, path: '', hostId: '' });

/**
 * A victim rank 1 whose predecessor (and successor) is the fake rank 0: its group lists the fake's data server
 * (or `pred`, someone else's) as rank 0's data endpoint.
 */
async function victimOf(f: FakePredecessor, pred: DataEndpoint = f.endpoint): Promise<Collective> {
  const c = await listen();
  c.setGroup({ rank: 1, worldSize: 2, peers: [f.address, c.address], generation: 1, data: [pred, c.dataEndpoint] });
  return c;
}

// The victim's first op, as its predecessor describes it in the OPEN: an fp32 sum of L elements, 16 per chunk.
const L = 64; // with 64-byte chunks: 2 segments of 32 elements, 2 chunks each
const OP: PullRequest = {
  job_id: JOB, generation: '1', seq: '1', kind: 'ALL_REDUCE', from_rank: 1, to_rank: 0, world_size: 2, length: String(L),
  wire: 'FP32', reduce: 'SUM', root: 0, chunk_elems: 16,
};
/** The OPEN of the victim's op #1, or of the op with these fields changed. */
const openFrame = (changes: Partial<PullRequest> = {}) => frame(FRAME.OPEN, codecs.open.encode({ ...OP, ...changes }));
const okStatus = (seq: string) => statusFrame({ seq, code: status.OK, details: '', origin_rank: -1, origin_address: '' });

/** The k-th chunk the victim (rank 1 of 2) expects first in op #1; fp32, from src. */
function firstChunk(k: number, src: Float32Array): OutChunk {
  const plan = makePlan({ mode: 'reduce', n: 2, rank: 1, chunkElems: OP.chunk_elems!, length: L });
  const segment = recvSegment(plan, PHASE.REDUCE_SCATTER, 0);
  const [offset, count] = chunkRange(plan, segment, k);
  return { jobId: JOB, generation: 1, seq: 1, phase: PHASE.REDUCE_SCATTER, step: 0, segment, index: k, offset, count, wire: 0, src };
}

/**
 * The op rejects with `code`, blaming rank 0 by rank and address, and its message matches every pattern (and names
 * rank 0 and its address unless the failure is an abort relayed from rank 0, whose details are rank 0's own words).
 */
async function rejectsBlamingRank0(p: Promise<unknown>, f: FakePredecessor, code: number, ...patterns: RegExp[]): Promise<CollectiveError> {
  let err: CollectiveError | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CollectiveError, String(e));
    err = e;
    return true;
  });
  const e = err!;
  assert.equal(e.codeName, status[code], e.message);
  assert.equal(e.peer?.rank, 0, e.message);
  assert.equal(e.peer?.address, f.address, e.message);
  if (!/ aborted: /.test(e.message)) assert.ok(e.message.includes(`rank 0 (${f.address})`), `message does not name the predecessor: ${e.message}`);
  for (const re of patterns) assert.match(e.message, re);
  return e;
}

/** The fake saw exactly one data connection, with the HELLO the victim owes it. */
function oneHelloFromVictim(f: FakePredecessor): void {
  assert.equal(f.dataConnections, 1);
  assert.deepEqual(f.hellos.map((h) => [h.job_id, h.from_rank, h.generation]), [[JOB, 1, '1']]);
}

// ---- (a) malformed frames from the predecessor ----

// Each pushed after the OPEN of the victim's op, so the victim is inside the op's stream when the frame arrives.
const MALFORMED: [string, () => Buffer, RegExp][] = [
  ['an unknown frame type', () => frame(9, Buffer.from([1, 2, 3])), /unexpected frame type 9/],
  ['a frame type the successor never receives (HELLO)', () => frame(FRAME.HELLO, Buffer.alloc(0)), /unexpected frame type 1/],
  ['a WELCOME after the handshake', () => frame(FRAME.WELCOME, Buffer.alloc(0)), /unexpected frame type 6/],
  ['a CHUNK length prefix over the limit', () => frame(FRAME.CHUNK, Buffer.alloc(8), 0xffffffff), /frame of type 3 claims 4294967295 bytes/],
  ['a STATUS length prefix over the limit', () => frame(FRAME.STATUS, Buffer.alloc(8), (1 << 16) + 1), /frame of type 4 claims 65537 bytes/],
  ['an OPEN length prefix over the limit', () => frame(FRAME.OPEN, Buffer.alloc(8), (1 << 16) + 1), /frame of type 2 claims 65537 bytes/],
  ['garbage protobuf in a CHUNK (wire type 7)', () => frame(FRAME.CHUNK, Buffer.from([0x0f, 0x00, 0x00])), /wire type 7/],
  ['garbage protobuf in a CHUNK (a field overrunning the message)', () => frame(FRAME.CHUNK, Buffer.from([0x0a, 0x7f, 0x41])), /overruns the message/],
  ['garbage protobuf in a STATUS', () => frame(FRAME.STATUS, Buffer.from([0xff, 0xff, 0xff, 0xff])), /index out of range/],
  ['a second OPEN before the STATUS of the first', () => openFrame({ seq: '2' }), /an OPEN arrived before the previous op stream ended/],
  ['a STATUS of another op inside the stream', () => okStatus('7'), /a STATUS for op #7 arrived outside its stream/],
];

for (const [name, bad, pattern] of MALFORMED) {
  test(`a predecessor sending ${name} makes the op reject promptly, naming it`, { timeout: 10_000 }, async () => {
    const f = await fake({ onHello: (sock) => sock.write(Buffer.concat([openFrame(), bad()])) });
    const c = await victimOf(f);
    const buf = new Float32Array(L).fill(1);
    await rejectsBlamingRank0(c.allReduce(buf, { op: 'sum' }), f, status.UNAVAILABLE, new RegExp(`bad frame from 127\\.0\\.0\\.1:${f.dataPort}`), pattern);
    oneHelloFromVictim(f);
  });
}

// An OPEN is checked against the op this rank is in: another op is a precondition failure, not a bad frame.
const OTHER_OP: [string, Partial<PullRequest>, RegExp][] = [
  ['a later op', { seq: '2' }, /sent op #2 of generation 1 while this rank waits for op #1 of generation 1/],
  ['another generation', { generation: '2' }, /sent op #1 of generation 2 while this rank waits for op #1 of generation 1/],
  ['another job', { job_id: 'other-job' }, /sent op #1 of generation 1 while this rank waits for op #1/],
  ['an op of another shape', { length: '32', chunk_elems: 8 }, /predecessor is in a different op: length 32 vs 64 here, chunk_elems 8 vs 16 here/],
  ['an op of another kind', { kind: 'BROADCAST' }, /predecessor is in a different op: kind BROADCAST vs ALL_REDUCE here/],
];

for (const [name, changes, pattern] of OTHER_OP) {
  test(`a predecessor that OPENs ${name} makes the op reject FAILED_PRECONDITION before any chunk is used`, { timeout: 10_000 }, async () => {
    const f = await fake({
      onHello: (sock) => sock.write(Buffer.concat([openFrame(changes), chunkFrame(firstChunk(0, new Float32Array(L).fill(5)))])),
    });
    const c = await victimOf(f);
    const buf = new Float32Array(L).fill(1);
    await rejectsBlamingRank0(c.allReduce(buf, { op: 'sum' }), f, status.FAILED_PRECONDITION, pattern);
    assert.ok(buf.every((v) => v === 1), 'a chunk of another op reached the buffer');
    oneHelloFromVictim(f);
  });
}

test('a predecessor sending a CHUNK before any OPEN makes the op reject promptly, naming it', { timeout: 10_000 }, async () => {
  const f = await fake({ onHello: (sock) => sock.write(chunkFrame(firstChunk(0, new Float32Array(L).fill(5)))) });
  const c = await victimOf(f);
  const buf = new Float32Array(L).fill(1);
  // The chunk may come before the op asks for its stream (the connection is then found dead, and the one reopened
  // for the op gets the same), or after: either way a bad frame, never data.
  await rejectsBlamingRank0(c.allReduce(buf, { op: 'sum' }), f, status.UNAVAILABLE, new RegExp(`bad frame from 127\\.0\\.0\\.1:${f.dataPort}`), /a chunk arrived outside any op stream/);
  assert.ok(buf.every((v) => v === 1), 'a chunk outside any stream reached the buffer');
});

// A well-formed frame whose chunk is inconsistent is refused by the op's tag check (as over gRPC), not as a bad frame.
test('a predecessor sending a CHUNK whose payload does not match its count makes the op reject promptly, naming it', { timeout: 10_000 }, async () => {
  const c0 = firstChunk(0, new Float32Array(L));
  const body = codecs.chunk.encode({
    job_id: c0.jobId, generation: String(c0.generation), seq: String(c0.seq), phase: 'REDUCE_SCATTER', step: c0.step, segment: c0.segment,
    index: c0.index, offset: String(c0.offset), count: c0.count, wire: 'FP32', data: Buffer.alloc(c0.count * 4 - 4),
  });
  const f = await fake({ onHello: (sock) => sock.write(Buffer.concat([openFrame(), frame(FRAME.CHUNK, body)])) });
  const c = await victimOf(f);
  const buf = new Float32Array(L).fill(1);
  await rejectsBlamingRank0(c.allReduce(buf, { op: 'sum' }), f, status.FAILED_PRECONDITION, /refused a chunk/, /chunk payload has 60 bytes, expected 16 x 4/);
  assert.ok(!buf.includes(0), 'the refused chunk reached the buffer');
});

/** A raw connection to a data server on 127.0.0.1 that records the frames it gets; `closed` resolves at its close. */
function rawClient(port: number) {
  const sock = net.connect({ host: '127.0.0.1', port });
  cleanup.push(() => sock.destroy());
  sock.on('error', () => {});
  const frames: [number, Buffer][] = [];
  onFrames(sock, (t, body) => frames.push([t, Buffer.from(body)]));
  const closed = new Promise<void>((res) => sock.once('close', () => res()));
  return { sock, frames, closed };
}

test('a successor sending malformed frames, or anything after its HELLO, has its data connection closed; the rank keeps serving', { timeout: 20_000 }, async () => {
  const a = await listen();
  const b = await listen();
  const peers = [a.address, b.address];
  const data = [a.dataEndpoint, b.dataEndpoint];
  a.setGroup({ rank: 0, worldSize: 2, peers, generation: 1, data });
  const port = a.dataEndpoint.port;
  assert.ok(port > 0, `no data port: ${port}`);
  const hello = frame(FRAME.HELLO, codecs.hello.encode({ job_id: JOB, from_rank: 1, generation: '1' }));
  // Refused before (or as) the HELLO is read: the connection is closed with nothing sent back.
  for (const bytes of [
    frame(7, Buffer.alloc(2)), // unknown type
    frame(FRAME.CHUNK, Buffer.alloc(2)), // a type only the predecessor sends
    frame(FRAME.OPEN, codecs.open.encode(OP)), // OPEN before (instead of) a HELLO
    frame(FRAME.HELLO, Buffer.alloc(0), 1 << 20), // a HELLO over the limit
    frame(FRAME.HELLO, Buffer.from([0xff, 0xff])), // garbage protobuf
  ]) {
    const r = rawClient(port);
    r.sock.write(bytes);
    await r.closed;
    assert.deepEqual(r.frames, [], `the server answered ${bytes.toString('hex')} with frames ${r.frames.map(([t]) => t)}`);
  }
  // After a good HELLO the connection is admitted (and kept: nothing happens for 200 ms); whatever frame the
  // successor sends next closes it.
  for (const bytes of [
    frame(FRAME.OPEN, codecs.open.encode(OP)), // the old PULL's place: nothing travels upstream any more
    frame(FRAME.HELLO, codecs.hello.encode({ job_id: JOB, from_rank: 1, generation: '1' })), // a second HELLO
    frame(FRAME.STATUS, codecs.status.encode({ seq: '1', code: status.CANCELLED })),
    frame(9, Buffer.alloc(0), 1 << 20), // unknown type, over any limit
  ]) {
    const r = rawClient(port);
    let closedYet = false;
    void r.closed.then(() => (closedYet = true));
    r.sock.write(hello);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(closedYet, false, 'the server closed a connection whose HELLO was good');
    r.sock.write(bytes);
    await r.closed;
    assert.deepEqual(r.frames, [], `the server answered ${bytes.toString('hex')} with frames ${r.frames.map(([t]) => t)}`);
  }
  // The server survived all of it: the two ranks still reduce over their data links.
  b.setGroup({ rank: 1, worldSize: 2, peers, generation: 1, data });
  const x = Float32Array.from({ length: 100 }, (_, i) => i);
  const y = Float32Array.from({ length: 100 }, (_, i) => 2 * i);
  await Promise.all([a.allReduce(x, { op: 'sum' }), b.allReduce(y, { op: 'sum' })]);
  assert.deepEqual(x, Float32Array.from({ length: 100 }, (_, i) => 3 * i));
  assert.deepEqual(y, x);
});

// ---- (b) a HELLO with a foreign job id ----

test('a data server of another job refuses the HELLO: the op rejects FAILED_PRECONDITION, naming neither job', { timeout: 10_000 }, async () => {
  const admitted: SuccessorConnection[] = [];
  const other = await DataServer.listen('127.0.0.1', { jobId: 'other-job' }, (conn) => admitted.push(conn), false);
  cleanup.push(() => other.close());
  // rank 0's data endpoint, as this group lists it, is a port another job's rank now owns.
  const f = await fake({});
  const c = await victimOf(f, tcpEndpoint(other.port));
  const e = await rejectsBlamingRank0(c.allReduce(new Float32Array(L), { op: 'sum' }), f, status.FAILED_PRECONDITION, /data link: HELLO for another job/);
  assert.ok(!e.message.includes('other-job'), e.message);
  assert.equal(admitted.length, 0, 'a connection from a foreign job was admitted');
  assert.ok(other.refused >= 1, 'the other job\'s server refused nothing');
  assert.equal(f.dataConnections, 0);
});

test('a real rank answers a foreign HELLO with one FAILED_PRECONDITION STATUS (seq 0), admits nothing, and closes', { timeout: 10_000 }, async () => {
  const a = await listen();
  const r = rawClient(a.dataEndpoint.port);
  r.sock.write(frame(FRAME.HELLO, codecs.hello.encode({ job_id: 'intruder', from_rank: 1, generation: '1' })));
  await r.closed;
  assert.equal(r.frames.length, 1, JSON.stringify(r.frames.map(([t]) => t)));
  const [type, body] = r.frames[0];
  assert.equal(type, FRAME.STATUS);
  const s = codecs.status.decode(body);
  assert.equal(s.seq, '0');
  assert.equal(s.code, status.FAILED_PRECONDITION);
  assert.equal(s.details, 'data link: HELLO for another job');
});

// ---- (c) the predecessor drops the data connection mid-op, ends or aborts the op's stream ----

for (const [how, drop] of [
  ['resets it', (s: net.Socket) => s.resetAndDestroy()],
  ['closes it (FIN)', (s: net.Socket) => s.end()],
] as const) {
  test(`a predecessor that ${how} mid-op makes the op reject UNAVAILABLE naming its rank`, { timeout: 10_000 }, async () => {
    const f = await fake({
      onHello: (sock) => {
        sock.write(Buffer.concat([openFrame(), chunkFrame(firstChunk(0, new Float32Array(L).fill(1)))]));
        setTimeout(() => drop(sock), 50);
      },
    });
    const c = await victimOf(f);
    const buf = new Float32Array(L).fill(1);
    await rejectsBlamingRank0(c.allReduce(buf, { op: 'sum' }), f, status.UNAVAILABLE, /lost the stream from predecessor/, new RegExp(`data connection to 127\\.0\\.0\\.1:${f.dataPort}`));
  });
}

test('a predecessor that ends the op\'s stream (STATUS OK) before all chunks makes the op reject UNAVAILABLE', { timeout: 10_000 }, async () => {
  const f = await fake({
    onHello: (sock) => sock.write(Buffer.concat([openFrame(), chunkFrame(firstChunk(0, new Float32Array(L).fill(1))), okStatus('1')])),
  });
  const c = await victimOf(f);
  await rejectsBlamingRank0(c.allReduce(new Float32Array(L), { op: 'sum' }), f, status.UNAVAILABLE, /ended its stream after 1 of \d+ chunks/);
  oneHelloFromVictim(f);
});

test('an abort STATUS from the predecessor rejects the op with its code and origin rank', { timeout: 10_000 }, async () => {
  const f = await fake({
    onHello: (sock, _h, fk) => sock.write(Buffer.concat([
      openFrame(),
      statusFrame({ seq: '1', code: status.RESOURCE_EXHAUSTED, details: 'out of memory on rank 0', origin_rank: 0, origin_address: fk.address }),
    ])),
  });
  const c = await victimOf(f);
  await rejectsBlamingRank0(c.allReduce(new Float32Array(L), { op: 'sum' }), f, status.RESOURCE_EXHAUSTED, /aborted: out of memory on rank 0/);
});

/** True when a TCP connection to 127.0.0.1:port is refused (nothing listens there). */
function refused(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => res(e.code === 'ECONNREFUSED'));
  });
}

/**
 * A port nothing listens on that stays so: one below the kernel's ephemeral range, which no listen(0) (this test's
 * own servers, or another test running beside it) can be given. A port freed by closing a server could be handed
 * straight back to the victim's own data server, which then answered its own connection.
 */
async function refusedPort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the usual lower bound
  }
  for (let p = Math.min(low, 65536) - 1; p > 1024; p--) if (await refused(p)) return p;
  throw new Error('no refused port below the ephemeral range on 127.0.0.1');
}

test('a data endpoint nobody listens on makes the op reject UNAVAILABLE naming the predecessor', { timeout: 10_000 }, async () => {
  const port = await refusedPort();
  const f = await fake({});
  const c = await victimOf(f, tcpEndpoint(port));
  await rejectsBlamingRank0(c.allReduce(new Float32Array(L), { op: 'sum' }), f, status.UNAVAILABLE, /cannot open the data connection/, /ECONNREFUSED/);
  assert.equal(f.dataConnections, 0);
});

// ---- (d) after a failed op, the next generation works on fresh data connections ----

/**
 * A TCP proxy in front of a data port that counts connections and, once armed, cuts the connection as soon as the
 * next OPEN comes from upstream (the predecessor starting its next op: so the cut lands inside that op). It follows
 * the upstream bytes frame by frame, so a STATUS of the previous op still in flight does not trigger the cut.
 */
async function cuttingProxy(upstreamPort: number): Promise<{ port: number; connections: number; armCut(): void; cuts: number }> {
  let armed = false;
  const socks = new Set<net.Socket>();
  const state = {
    port: 0, connections: 0, cuts: 0,
    armCut: () => void (armed = true),
  };
  const server = net.createServer((down) => {
    state.connections++;
    const up = net.connect({ host: '127.0.0.1', port: upstreamPort });
    for (const s of [down, up]) {
      socks.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        down.destroy();
        up.destroy();
      });
    }
    down.on('data', (d) => up.write(d));
    // Upstream framing: the 5-byte prefix of the current frame as far as it has come, then its body's bytes left.
    const prefix = Buffer.alloc(5);
    let prefixFill = 0;
    let bodyLeft = 0;
    up.on('data', (d: Buffer) => {
      for (let p = 0; p < d.length;) {
        if (bodyLeft > 0) {
          const k = Math.min(bodyLeft, d.length - p);
          bodyLeft -= k;
          p += k;
          continue;
        }
        prefix[prefixFill++] = d[p++];
        if (prefixFill < 5) continue;
        prefixFill = 0;
        bodyLeft = prefix.readUInt32LE(0);
        if (armed && prefix[4] === FRAME.OPEN) {
          armed = false;
          state.cuts++;
          down.resetAndDestroy();
          up.destroy();
          return;
        }
      }
      down.write(d);
    });
  });
  state.port = await new Promise<number>((res) => server.listen(0, '127.0.0.1', () => res((server.address() as net.AddressInfo).port)));
  cleanup.push(() => {
    server.close();
    for (const s of socks) s.destroy();
  });
  return state;
}

const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

test('after an op failed on a cut data connection, the next generation reduces on a fresh one', { timeout: 20_000 }, async () => {
  // Rank 1 reaches rank 0's data server through the proxy: its group lists the proxy's port as rank 0's data
  // endpoint (TCP only, so no Unix socket bypasses it). Rank 0 connects to rank 1 directly.
  const a = await listen({ chunkBytes: 256 });
  const b = await listen({ chunkBytes: 256 });
  const proxy = await cuttingProxy(a.dataEndpoint.port);
  const N = 5000;
  const peers = [a.address, b.address];
  const setGroups = (generation: number) => {
    a.setGroup({ rank: 0, worldSize: 2, peers, generation, data: [a.dataEndpoint, b.dataEndpoint] });
    b.setGroup({ rank: 1, worldSize: 2, peers, generation, data: [tcpEndpoint(proxy.port), b.dataEndpoint] });
  };
  const reduceBoth = async (k: number) => {
    const x = seq(N, (i) => i % 97 + k);
    const y = seq(N, (i) => 2 * (i % 89) - k);
    await Promise.all([a.allReduce(x, { op: 'sum' }), b.allReduce(y, { op: 'sum' })]);
    const want = seq(N, (i) => (i % 97) + 2 * (i % 89));
    assert.deepEqual(x, want, `rank 0, reduce ${k}`);
    assert.deepEqual(y, want, `rank 1, reduce ${k}`);
  };

  setGroups(1);
  await reduceBoth(1);
  await reduceBoth(2);
  assert.equal(proxy.connections, 1, 'consecutive ops of a generation share one data connection');

  proxy.armCut();
  const [ra, rb] = await Promise.allSettled([a.allReduce(new Float32Array(N), { op: 'sum' }), b.allReduce(new Float32Array(N), { op: 'sum' })]);
  assert.equal(proxy.cuts, 1);
  assert.equal(ra.status, 'rejected', 'rank 0 finished an op whose stream to rank 1 was cut');
  assert.equal(rb.status, 'rejected', 'rank 1 finished an op whose stream from rank 0 was cut');
  const eb = (rb as PromiseRejectedResult).reason as CollectiveError;
  assert.equal(eb.codeName, 'UNAVAILABLE', eb.message);
  assert.equal(eb.peer?.rank, 0, eb.message);

  setGroups(2);
  await reduceBoth(3);
  await reduceBoth(4);
  assert.equal(proxy.connections, 2, 'the new generation did not open exactly one fresh data connection');
});

for (const unixSocket of [false, true]) {
  test(`a predecessor restarted on the same address (new data port${unixSocket ? ' and socket' : ''}) works in the next generation`, { timeout: 20_000 }, async () => {
    let a = await listen({ unixSocket });
    const b = await listen({ unixSocket });
    const aAddress = a.address;
    const port = Number(aAddress.slice(aAddress.lastIndexOf(':') + 1));
    const reduceBoth = async () => {
      const x = seq(100, (i) => i);
      const y = seq(100, (i) => 1000 - i);
      await Promise.all([a.allReduce(x, { op: 'sum' }), b.allReduce(y, { op: 'sum' })]);
      assert.deepEqual(x, new Float32Array(100).fill(1000));
      assert.deepEqual(y, x);
    };
    const setGroups = (generation: number) => {
      const data = [a.dataEndpoint, b.dataEndpoint];
      a.setGroup({ rank: 0, worldSize: 2, peers: [aAddress, b.address], generation, data });
      b.setGroup({ rank: 1, worldSize: 2, peers: [aAddress, b.address], generation, data });
    };
    setGroups(1);
    await reduceBoth();
    const oldEndpoint = a.dataEndpoint;
    assert.equal(oldEndpoint.path !== '', unixSocket, JSON.stringify(oldEndpoint));

    // Rank 0 restarts on the same gRPC port (workers may be given a fixed --port); its data port is a fresh one.
    await a.close();
    a = await listen({ port, unixSocket });
    assert.equal(a.address, aAddress);
    assert.notEqual(a.dataEndpoint.port, oldEndpoint.port);
    if (unixSocket) assert.notEqual(a.dataEndpoint.path, oldEndpoint.path);

    setGroups(2);
    await reduceBoth();
  });
}

test('--data-port: the data channel listens on the port asked for, its endpoint says so, and a taken port is a clear error', { timeout: 15_000 }, async () => {
  const freePort = () => new Promise<number>((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
  // A port found free may be taken by another process before the rank binds it: then try another.
  let free = 0;
  let a: Collective | undefined;
  for (let tries = 1; !a; tries++) {
    free = await freePort();
    a = await listen({ dataPort: free, unixSocket: false }).catch((e: Error) => {
      if (tries >= 5 || !/EADDRINUSE/.test(e.message)) throw e;
      return undefined;
    });
  }
  assert.deepEqual(a.dataEndpoint, { port: free, path: '', hostId: '' });
  const b = await listen({ unixSocket: false });
  assert.notEqual(b.dataEndpoint.port, free);
  // The fixed port carries the data: rank 1 reaches rank 0 on it (TCP: no Unix socket is served).
  const peers = [a.address, b.address];
  const data = [a.dataEndpoint, b.dataEndpoint];
  a.setGroup({ rank: 0, worldSize: 2, peers, generation: 1, data });
  b.setGroup({ rank: 1, worldSize: 2, peers, generation: 1, data });
  const x = seq(1000, (i) => i + 1);
  const y = seq(1000, (i) => -2 * (i + 1));
  await Promise.all([a.allReduce(x, { op: 'sum' }), b.allReduce(y, { op: 'sum' })]);
  assert.deepEqual(x, seq(1000, (i) => -(i + 1)));
  assert.deepEqual(y, x);
  await assert.rejects(listen({ dataPort: free, unixSocket: false }), (e: Error) => {
    assert.match(e.message, new RegExp(`cannot listen for data connections on 127\\.0\\.0\\.1:${free}: .*EADDRINUSE`));
    return true;
  });
  await assert.rejects(listen({ dataPort: 70_000 }), /dataPort must be an integer port number/);
});
