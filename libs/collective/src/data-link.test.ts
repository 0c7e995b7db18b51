// The data link (transport 'tcp') against bad input over real sockets on 127.0.0.1: every failure is a clear,
// prompt rejection naming the peer, never a hang or a crash. A victim Collective (rank 1 of 2) pulls from a fake
// predecessor (testing/frames.ts: gRPC Probe answering a data_port, no Unix socket + a raw frame-speaking net
// server) that sends malformed frames, a foreign-job refusal, or drops the connection mid-op; a raw client sends
// garbage to a real rank's data server; two real ranks, one reaching the other through a cutting TCP proxy, recover
// in the next generation on a fresh connection; and a predecessor restarted on its old gRPC address (new data port
// and Unix socket) must be reachable in the next generation.
// Run: node tools/run-tests.mjs libs/collective data-link
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { PullRequest__Output } from '@gan/proto';
import { PHASE, type OutChunk } from './chunk-codec';
import { Collective, type ListenOptions } from './collective';
import { DataServer, type OutStream } from './data-link';
import { CollectiveError } from './errors';
import { chunkRange, makePlan, recvSegment } from './ring-plan';
import { chunkFrame, codecs, fakePredecessor, frame, FRAME, onFrames, probeDataPort, statusFrame, type FakeOptions, type FakePredecessor } from './testing/frames';

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

/** A victim rank 1 whose predecessor (and successor) is the fake rank 0. */
async function victimOf(f: FakePredecessor, generation = 1): Promise<Collective> {
  const c = await listen();
  c.setGroup({ rank: 1, worldSize: 2, peers: [f.address, c.address], generation });
  return c;
}

/** The k-th chunk the victim (rank 1 of 2) expects first in the all-reduce its PULL describes; fp32, from src. */
function firstChunk(req: PullRequest__Output, k: number, src: Float32Array): OutChunk {
  const plan = makePlan({ mode: 'reduce', n: 2, rank: 1, chunkElems: req.chunk_elems, length: Number(req.length) });
  const segment = recvSegment(plan, PHASE.REDUCE_SCATTER, 0);
  const [offset, count] = chunkRange(plan, segment, k);
  return { jobId: req.job_id, generation: Number(req.generation), seq: Number(req.seq), phase: PHASE.REDUCE_SCATTER, step: 0, segment, index: k, offset, count, wire: 0, src };
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

// ---- (a) malformed frames from the predecessor ----

const L = 64; // with 64-byte chunks: 2 segments of 32 elements, 2 chunks each
const MALFORMED: [string, (req: PullRequest__Output) => Buffer, RegExp][] = [
  ['an unknown frame type', () => frame(9, Buffer.from([1, 2, 3])), /unknown frame type 9/],
  ['a frame type the successor never receives (PULL)', () => frame(FRAME.PULL, Buffer.alloc(0)), /unknown frame type 2/],
  ['a CHUNK length prefix over the limit', () => frame(FRAME.CHUNK, Buffer.alloc(8), 0xffffffff), /frame of type 3 claims 4294967295 bytes/],
  ['a STATUS length prefix over the limit', () => frame(FRAME.STATUS, Buffer.alloc(8), (1 << 16) + 1), /frame of type 4 claims 65537 bytes/],
  ['garbage protobuf in a CHUNK (wire type 7)', () => frame(FRAME.CHUNK, Buffer.from([0x0f, 0x00, 0x00])), /wire type 7/],
  ['garbage protobuf in a CHUNK (a field overrunning the message)', () => frame(FRAME.CHUNK, Buffer.from([0x0a, 0x7f, 0x41])), /overruns the message/],
  ['garbage protobuf in a STATUS', () => frame(FRAME.STATUS, Buffer.from([0xff, 0xff, 0xff, 0xff])), /index out of range/],
];

for (const [name, bad, pattern] of MALFORMED) {
  test(`a predecessor sending ${name} makes the op reject promptly, naming it`, { timeout: 10_000 }, async () => {
    const f = await fake({ onDataPull: (sock, req) => sock.write(bad(req)) });
    const c = await victimOf(f);
    const buf = new Float32Array(L).fill(1);
    await rejectsBlamingRank0(c.allReduce(buf, { op: 'sum' }), f, status.UNAVAILABLE, new RegExp(`bad frame from 127\\.0\\.0\\.1:${f.dataPort}`), pattern);
    assert.equal(f.dataPulls.length, 1);
  });
}

// A well-formed frame whose chunk is inconsistent is refused by the op's tag check (as over gRPC), not as a bad frame.
const PAYLOAD_MISMATCH: [string, (req: PullRequest__Output) => Buffer, RegExp] = [
  'a CHUNK whose payload does not match its count',
  (req) => {
    const c = firstChunk(req, 0, new Float32Array(L));
    const body = codecs.chunk.encode({
      job_id: c.jobId, generation: String(c.generation), seq: String(c.seq), phase: 'REDUCE_SCATTER', step: c.step, segment: c.segment,
      index: c.index, offset: String(c.offset), count: c.count, wire: 'FP32', data: Buffer.alloc(c.count * 4 - 4),
    });
    return frame(FRAME.CHUNK, body);
  },
  /chunk payload has 60 bytes, expected 16 x 4/,
];

test(`a predecessor sending ${PAYLOAD_MISMATCH[0]} makes the op reject promptly, naming it`, { timeout: 10_000 }, async () => {
  const f = await fake({ onDataPull: (sock, req) => sock.write(PAYLOAD_MISMATCH[1](req)) });
  const c = await victimOf(f);
  const buf = new Float32Array(L).fill(1);
  await rejectsBlamingRank0(c.allReduce(buf, { op: 'sum' }), f, status.FAILED_PRECONDITION, /refused a chunk/, PAYLOAD_MISMATCH[2]);
  assert.ok(!buf.includes(0), 'the refused chunk reached the buffer');
});

test('a successor sending malformed frames has its data connection closed; the rank keeps serving', { timeout: 15_000 }, async () => {
  const a = await listen();
  const b = await listen();
  const peers = [a.address, b.address];
  a.setGroup({ rank: 0, worldSize: 2, peers, generation: 1 });
  b.setGroup({ rank: 1, worldSize: 2, peers, generation: 1 });
  const port = await probeDataPort(a.address, JOB);
  assert.ok(port > 0, `no data port advertised: ${port}`);
  const hello = frame(FRAME.HELLO, codecs.hello.encode({ job_id: JOB, from_rank: 1 }));
  for (const bytes of [
    frame(7, Buffer.alloc(2)), // unknown type
    frame(FRAME.CHUNK, Buffer.alloc(2)), // a type only the predecessor sends
    frame(FRAME.PULL, codecs.pull.encode({ job_id: JOB, generation: '1', seq: '1' })), // PULL before HELLO
    Buffer.concat([hello, frame(FRAME.PULL, Buffer.alloc(0), 1 << 20)]), // control frame over the limit
    Buffer.concat([hello, frame(FRAME.PULL, Buffer.from([0xff, 0xff]))]), // garbage protobuf
  ]) {
    const sock = net.connect({ host: '127.0.0.1', port });
    cleanup.push(() => sock.destroy());
    sock.on('error', () => {});
    const frames: number[] = [];
    onFrames(sock, (t) => frames.push(t));
    sock.write(bytes);
    await new Promise<void>((res) => sock.once('close', () => res()));
    assert.deepEqual(frames, [], `the server answered ${bytes.toString('hex')} with frames ${frames}`);
  }
  // The server survived all of it: the two ranks still reduce over their data links.
  const x = Float32Array.from({ length: 100 }, (_, i) => i);
  const y = Float32Array.from({ length: 100 }, (_, i) => 2 * i);
  await Promise.all([a.allReduce(x, { op: 'sum' }), b.allReduce(y, { op: 'sum' })]);
  assert.deepEqual(x, Float32Array.from({ length: 100 }, (_, i) => 3 * i));
  assert.deepEqual(y, x);
});

// ---- (b) a HELLO with a foreign job id ----

test('a data server of another job refuses the HELLO: the op rejects FAILED_PRECONDITION, naming neither job', { timeout: 10_000 }, async () => {
  const pulls: OutStream[] = [];
  const other = await DataServer.listen('127.0.0.1', { jobId: 'other-job' }, (out) => pulls.push(out));
  cleanup.push(() => other.close());
  // A predecessor whose Probe hands out a port that another job's rank now owns.
  const f = await fake({ advertisePort: other.port });
  const c = await victimOf(f);
  await rejectsBlamingRank0(c.allReduce(new Float32Array(L), { op: 'sum' }), f, status.FAILED_PRECONDITION, /data link: HELLO for another job/);
  assert.equal(pulls.length, 0, 'a pull from a foreign job reached the data server');
  assert.equal(f.dataConnections, 0);
});

test('a real rank answers a foreign HELLO with one FAILED_PRECONDITION STATUS (seq 0), serves no PULL, and closes', { timeout: 10_000 }, async () => {
  const a = await listen();
  a.setGroup({ rank: 0, worldSize: 2, peers: [a.address, '127.0.0.1:1'], generation: 1 });
  const port = await probeDataPort(a.address, JOB);
  const sock = net.connect({ host: '127.0.0.1', port });
  cleanup.push(() => sock.destroy());
  sock.on('error', () => {});
  const got: [number, unknown][] = [];
  onFrames(sock, (t, body) => got.push([t, t === FRAME.STATUS ? codecs.status.decode(body) : body.length]));
  sock.write(frame(FRAME.HELLO, codecs.hello.encode({ job_id: 'intruder', from_rank: 1 })));
  sock.write(frame(FRAME.PULL, codecs.pull.encode({ job_id: 'intruder', generation: '1', seq: '1', from_rank: 1, to_rank: 0, world_size: 2 })));
  await new Promise<void>((res) => sock.once('close', () => res()));
  assert.equal(got.length, 1, JSON.stringify(got));
  const [type, s] = got[0] as [number, { seq: string; code: number; details: string }];
  assert.equal(type, FRAME.STATUS);
  assert.equal(s.seq, '0');
  assert.equal(s.code, status.FAILED_PRECONDITION);
  assert.equal(s.details, 'data link: HELLO for another job');
});

// ---- (c) the predecessor drops the data connection mid-op ----

for (const [how, drop] of [
  ['resets it', (s: net.Socket) => s.resetAndDestroy()],
  ['closes it (FIN)', (s: net.Socket) => s.end()],
] as const) {
  test(`a predecessor that ${how} mid-op makes the op reject UNAVAILABLE naming its rank`, { timeout: 10_000 }, async () => {
    const f = await fake({
      onDataPull: (sock, req) => {
        sock.write(chunkFrame(firstChunk(req, 0, new Float32Array(L).fill(1))));
        setTimeout(() => drop(sock), 50);
      },
    });
    const c = await victimOf(f);
    const buf = new Float32Array(L).fill(1);
    await rejectsBlamingRank0(c.allReduce(buf, { op: 'sum' }), f, status.UNAVAILABLE, /lost the stream from predecessor/, new RegExp(`data connection to 127\.0\.0\.1:${f.dataPort}`));
  });
}

test('a predecessor that ends the op\'s stream (STATUS OK) before all chunks makes the op reject UNAVAILABLE', { timeout: 10_000 }, async () => {
  const f = await fake({
    onDataPull: (sock, req) => {
      sock.write(chunkFrame(firstChunk(req, 0, new Float32Array(L).fill(1))));
      sock.write(statusFrame({ seq: req.seq, code: 0, details: '', origin_rank: -1, origin_address: '' }));
    },
  });
  const c = await victimOf(f);
  await rejectsBlamingRank0(c.allReduce(new Float32Array(L), { op: 'sum' }), f, status.UNAVAILABLE, /ended its stream after 1 of \d+ chunks/);
});

test('an abort STATUS from the predecessor rejects the op with its code and origin rank', { timeout: 10_000 }, async () => {
  const f = await fake({
    onDataPull: (sock, req) => sock.write(statusFrame({ seq: req.seq, code: status.RESOURCE_EXHAUSTED, details: 'out of memory on rank 0', origin_rank: 0, origin_address: f.address })),
  });
  const c = await victimOf(f);
  await rejectsBlamingRank0(c.allReduce(new Float32Array(L), { op: 'sum' }), f, status.RESOURCE_EXHAUSTED, /aborted: out of memory on rank 0/);
});

test('a data port nobody listens on makes the op reject UNAVAILABLE naming the predecessor', { timeout: 10_000 }, async () => {
  const closed = net.createServer();
  const port = await new Promise<number>((res) => closed.listen(0, '127.0.0.1', () => res((closed.address() as net.AddressInfo).port)));
  await new Promise((res) => closed.close(res));
  const f = await fake({ advertisePort: port });
  const c = await victimOf(f);
  await rejectsBlamingRank0(c.allReduce(new Float32Array(L), { op: 'sum' }), f, status.UNAVAILABLE, /cannot open the data connection/, /ECONNREFUSED/);
});

// ---- (d) after a failed op, the next generation works on fresh data connections ----

/**
 * A TCP proxy in front of a data port that counts connections and, once armed, cuts the connection carrying the
 * next PULL as soon as the answer to it starts to arrive (so the cut lands inside that op).
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
    let cutNext = false;
    down.on('data', (d) => {
      // After the HELLO only PULLs travel downstream -> upstream: an armed proxy cuts after forwarding the next one.
      if (armed) {
        armed = false;
        cutNext = true;
      }
      up.write(d);
    });
    up.on('data', (d) => {
      if (cutNext) {
        state.cuts++;
        down.resetAndDestroy();
        up.destroy();
        return;
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
  // Rank 1 reaches rank 0's data server through the proxy: its peers list names a fake rank 0 whose Probe answers
  // the proxy's port (rank 1 uses rank 0's gRPC address for nothing else). Rank 0 pulls from rank 1 directly.
  const a = await listen({ chunkBytes: 256 });
  const proxy = await cuttingProxy(await probeDataPort(a.address, JOB));
  const shim = await fake({ advertisePort: proxy.port });
  const b = await listen({ chunkBytes: 256 });
  const N = 5000;
  const setGroups = (generation: number) => {
    a.setGroup({ rank: 0, worldSize: 2, peers: [a.address, b.address], generation });
    b.setGroup({ rank: 1, worldSize: 2, peers: [shim.address, b.address], generation });
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
    a.setGroup({ rank: 0, worldSize: 2, peers: [aAddress, b.address], generation: 1 });
    b.setGroup({ rank: 1, worldSize: 2, peers: [aAddress, b.address], generation: 1 });
    await reduceBoth();
    const oldDataPort = await probeDataPort(aAddress, JOB);

    // Rank 0 restarts on the same gRPC port (workers may be given a fixed --port); its data port is a fresh one.
    await a.close();
    a = await listen({ port, unixSocket });
    assert.equal(a.address, aAddress);
    const newDataPort = await probeDataPort(aAddress, JOB);
    assert.notEqual(newDataPort, oldDataPort);

    a.setGroup({ rank: 0, worldSize: 2, peers: [aAddress, b.address], generation: 2 });
    b.setGroup({ rank: 1, worldSize: 2, peers: [aAddress, b.address], generation: 2 });
    await reduceBoth();
  });
}

test('--data-port: the data channel listens on the port asked for, Probe advertises it, and a taken port is a clear error', { timeout: 15_000 }, async () => {
  const free = await new Promise<number>((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
  const a = await listen({ dataPort: free, unixSocket: false });
  assert.equal(await probeDataPort(a.address, JOB), free);
  const b = await listen({ unixSocket: false });
  assert.notEqual(await probeDataPort(b.address, JOB), free);
  // The fixed port carries the data: two ranks reduce over it.
  a.setGroup({ rank: 0, worldSize: 2, peers: [a.address, b.address], generation: 1 });
  b.setGroup({ rank: 1, worldSize: 2, peers: [a.address, b.address], generation: 1 });
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
