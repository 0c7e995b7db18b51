// Chunk tags: the hand-written codec is real protobuf, and a late, duplicated or foreign chunk is refused rather
// than mixed into an op — checked on the pure checker and over real sockets against a rogue predecessor, on both
// paths a chunk can take: the TCP data link (the rogue pushes OPEN + chunks down the victim's connection as soon as
// its HELLO arrives) and gRPC Pull (transport 'grpc'). A Pull of another job or an old generation is refused.
// Run: node tools/run-tests.mjs libs/collective tags
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadDefinition, type PullRequest, type PullRequest__Output } from '@gan/proto';
import { decodeChunk, encodeChunk, PHASE, type OutChunk } from './chunk-codec';
import { Collective } from './collective';
import { CollectiveError } from './errors';
import { checkChunk, chunkRange, makePlan, recvSegment, slotCount } from './ring-plan';
import { chunkFrame, codecs, fakePredecessor, frame, FRAME, statusFrame, type FakePredecessor } from './testing/frames';

const svc = loadDefinition('collective')['gan.collective.v1.Collective'] as grpc.ServiceDefinition;
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const f of cleanup) await f();
});

test('encodeChunk writes protobuf that protobufjs decodes, and decodeChunk reads it back', () => {
  const src = Float32Array.from({ length: 100 }, (_, i) => i * 0.5 - 7);
  for (const wire of [0, 1, 2]) {
    const c: OutChunk = { jobId: 'job-ü', generation: 2 ** 40 + 3, seq: 77, phase: PHASE.GATHER, step: 3, segment: 5, index: 2, offset: 10, count: 33, wire, src };
    const bytes = Buffer.from(encodeChunk(c));
    const pb = svc.Pull.responseDeserialize(bytes) as any;
    assert.equal(pb.job_id, 'job-ü');
    assert.equal(pb.generation, String(2 ** 40 + 3));
    assert.equal(pb.seq, '77');
    assert.equal(pb.phase, 'GATHER');
    assert.equal(pb.offset, '10');
    assert.equal(pb.count, 33);
    assert.equal(pb.data.length, 33 * (wire === 0 ? 4 : 2));
    if (wire === 0) assert.deepEqual(new Float32Array(new Uint8Array(pb.data).buffer), src.subarray(10, 43));
    const back = decodeChunk(bytes);
    for (const k of ['jobId', 'generation', 'seq', 'phase', 'step', 'segment', 'index', 'offset', 'count', 'wire'] as const) assert.equal(back[k], c[k]);
    // Framed by grpc-js the payload sits at byte 5 + dataStart of a fresh allocation: 4-byte aligned.
    assert.equal((5 + back.dataStart) % 4, 0);
  }
});

test('checkChunk refuses foreign, stale-generation, late, misplaced and duplicated chunks', () => {
  const plan = makePlan({ mode: 'reduce', n: 4, rank: 1, chunkElems: 10, length: 95 });
  const op = { jobId: 'j', generation: 3, seq: 9, wire: 0 };
  const seen = new Uint8Array(slotCount(plan));
  const seg = recvSegment(plan, PHASE.REDUCE_SCATTER, 0);
  const [offset, count] = chunkRange(plan, seg, 1);
  const good = { jobId: 'j', generation: 3, seq: 9, phase: PHASE.REDUCE_SCATTER, step: 0, segment: seg, index: 1, offset, count, wire: 0 };
  assert.match(checkChunk(plan, op, { ...good, jobId: 'other' }, seen)!, /foreign chunk/);
  assert.match(checkChunk(plan, op, { ...good, generation: 2 }, seen)!, /generation 2/);
  assert.match(checkChunk(plan, op, { ...good, seq: 8 }, seen)!, /late chunk of op #8/);
  assert.match(checkChunk(plan, op, { ...good, seq: 10 }, seen)!, /early chunk/);
  assert.match(checkChunk(plan, op, { ...good, segment: seg + 1 }, seen)!, /expected segment/);
  assert.match(checkChunk(plan, op, { ...good, offset: offset + 1 }, seen)!, /expected \[/);
  assert.match(checkChunk(plan, op, { ...good, step: 3 }, seen)!, /unexpected phase/);
  assert.match(checkChunk(plan, op, { ...good, wire: 1 }, seen)!, /wire format/);
  assert.equal(checkChunk(plan, op, good, seen), null);
  assert.match(checkChunk(plan, op, good, seen)!, /duplicate chunk/);
});

/** How the victim (rank 1) reaches the rogue rank 0, and which way the chunks must come. */
const PATHS = [
  { label: 'the TCP data link', transport: 'tcp', via: 'data' },
  { label: 'gRPC Pull (transport grpc)', transport: 'grpc', via: 'grpc' },
] as const;

/** The op the victim (rank 1 of 2, generation `generation`) runs as op #seq, as its predecessor's OPEN describes it. */
function opOf(generation: number, seq: number, kind: 'BARRIER' | 'ALL_REDUCE', length: number, chunkElems: number): PullRequest {
  return {
    job_id: 'j', generation: String(generation), seq: String(seq), kind, from_rank: 1, to_rank: 0, world_size: 2, length: String(length),
    wire: 'FP32', reduce: 'SUM', root: 0, chunk_elems: chunkElems,
  };
}

/** The default chunk size (1 MiB of fp32) in elements: the chunk_elems of a victim listening with defaults. */
const DEFAULT_CHUNK_ELEMS = (1 << 20) / 4;

/**
 * A fake rank 0 that answers every op with the chunks `script` returns and leaves the stream open (no STATUS): the
 * victim must decide from the tags alone. Over gRPC it answers each Pull; over the data link it pushes, on every
 * connection (the victim reconnects after an op it gave up on), the streams of `ops` in order: OPEN + the script's
 * CHUNKs, and a STATUS (an abort) closing every stream but the last, so a reconnected victim skips to its op.
 */
function rogue(script: (req: PullRequest__Output) => (OutChunk | Buffer)[], ops: PullRequest[]): Promise<FakePredecessor> {
  const asFrame = (c: OutChunk | Buffer) => (Buffer.isBuffer(c) ? frame(FRAME.CHUNK, c) : chunkFrame(c));
  return fakePredecessor({
    onGrpcPull: (call) => {
      for (const c of script(call.request)) call.write(c);
    },
    onHello: (sock) => {
      ops.forEach((op, i) => {
        const req = codecs.open.decode(codecs.open.encode(op));
        sock.write(frame(FRAME.OPEN, codecs.open.encode(op)));
        for (const c of script(req)) sock.write(asFrame(c));
        if (i < ops.length - 1) sock.write(statusFrame({ seq: op.seq, code: grpc.status.ABORTED, details: 'rogue: next op', origin_rank: 0, origin_address: '' }));
      });
    },
  }).then((f) => {
    cleanup.push(() => f.close());
    return f;
  });
}

for (const path of PATHS) {
  for (const [name, mutate, pattern] of [
    ['a late chunk (previous op)', (c: OutChunk) => ({ ...c, seq: c.seq - 1 }), /late chunk of op #1/],
    ['a foreign chunk (other job)', (c: OutChunk) => ({ ...c, jobId: 'intruder' }), /foreign chunk/],
    ['a chunk of an old generation', (c: OutChunk) => ({ ...c, generation: c.generation - 1 }), /generation 4 in an op of generation 5/],
    ['a duplicated chunk', null, /duplicate chunk/],
  ] as const) {
    test(`over ${path.label}, ${name} is refused and never reaches the buffer`, { timeout: 15_000 }, async () => {
      const L = 64;
      const poison = new Float32Array(L).fill(999);
      // Op #1 is a barrier (so the late chunk of op #2 can be #1), op #2 the all-reduce under test.
      const ops = [opOf(5, 1, 'BARRIER', 0, DEFAULT_CHUNK_ELEMS), opOf(5, 2, 'ALL_REDUCE', L, DEFAULT_CHUNK_ELEMS)];
      const fake = await rogue((req) => {
        const base: OutChunk = {
          jobId: req.job_id, generation: Number(req.generation), seq: Number(req.seq), phase: PHASE.REDUCE_SCATTER, step: 0,
          segment: 0, index: 0, offset: 0, count: L / 2, wire: 0, src: poison,
        };
        return mutate ? [mutate(base)] : [{ ...base, src: new Float32Array(L) }, base];
      }, ops);
      const c = await Collective.listen({ jobId: 'j', opTimeoutMs: 5000, transport: path.transport });
      cleanup.push(() => c.close());
      c.setGroup({ rank: 1, worldSize: 2, peers: [fake.address, c.address], generation: 5, data: [fake.endpoint, c.dataEndpoint] });
      await c.barrier().catch(() => undefined); // op #1, so the late chunk of the next op can be #1
      const buf = new Float32Array(L).fill(1);
      await assert.rejects(c.allReduce(buf, { op: 'sum' }), (e: unknown) => {
        assert.ok(e instanceof CollectiveError);
        assert.equal(e.code, 'precondition', e.message);
        assert.equal(e.peer?.rank, 0);
        assert.match(e.message, pattern);
        return true;
      });
      assert.ok(!buf.includes(999), 'a refused chunk was added into the buffer');
      // The chunks came the way this path promises (and not by the other one).
      if (path.via === 'data') {
        // The barrier gave up on its (refused) stream, closing the connection; the all-reduce connected afresh and
        // skipped the barrier's stream, pushed again, to its own.
        assert.deepEqual(fake.hellos.map((h) => [h.job_id, h.from_rank, h.generation]), [['j', 1, '5'], ['j', 1, '5']]);
        assert.equal(fake.grpcPulls.length, 0);
      } else {
        assert.deepEqual(fake.grpcPulls.map((r) => [r.seq, r.kind]), [['1', 'BARRIER'], ['2', 'ALL_REDUCE']]);
        assert.equal(fake.dataConnections, 0);
      }
    });
  }
}

// A chunk whose tag is right but whose payload is shorter than its count says: refused at once on both paths, with
// a message saying so, and nothing added. (Hand-encoded with protobufjs, as any other implementation would.)
for (const path of PATHS) {
  test(`over ${path.label}, a chunk whose payload does not match its count is refused promptly`, { timeout: 5_000 }, async () => {
    const L = 64;
    const bad = (req: PullRequest__Output) => {
      const plan = makePlan({ mode: 'reduce', n: 2, rank: 1, chunkElems: req.chunk_elems, length: Number(req.length) });
      const segment = recvSegment(plan, PHASE.REDUCE_SCATTER, 0);
      const [offset, count] = chunkRange(plan, segment, 0);
      return Buffer.from(codecs.chunk.encode({
        job_id: req.job_id, generation: req.generation, seq: req.seq, phase: 'REDUCE_SCATTER', step: 0, segment, index: 0,
        offset: String(offset), count, wire: 'FP32', data: Buffer.alloc(count * 4 - 4, 0x44),
      }));
    };
    const fake = await rogue((req) => [bad(req)], [opOf(1, 1, 'ALL_REDUCE', L, 16)]);
    // The op deadline is beyond the test's timeout: only a prompt refusal passes.
    const c = await Collective.listen({ jobId: 'j', opTimeoutMs: 30_000, stallWarnMs: 30_000, chunkBytes: 64, transport: path.transport });
    cleanup.push(() => c.close());
    c.setGroup({ rank: 1, worldSize: 2, peers: [fake.address, c.address], generation: 1, data: [fake.endpoint, c.dataEndpoint] });
    const buf = new Float32Array(L).fill(1);
    await assert.rejects(c.allReduce(buf, { op: 'sum' }), (e: unknown) => {
      assert.ok(e instanceof CollectiveError, String(e));
      assert.equal(e.peer?.rank, 0, e.message);
      assert.match(e.message, /chunk payload has 60 bytes, expected 16 x 4/);
      return true;
    });
    assert.ok(buf.every((v) => v === 1), 'a refused chunk changed the buffer');
    if (path.via === 'data') {
      assert.equal(fake.hellos.length, 1);
      assert.equal(fake.grpcPulls.length, 0);
    } else {
      assert.equal(fake.grpcPulls.length, 1);
      assert.equal(fake.dataConnections, 0);
    }
  });
}

test('a Pull of another job or of an old generation is refused with FAILED_PRECONDITION', { timeout: 15_000 }, async () => {
  // Every rank serves Pull whatever its own transport; 'grpc' here only spares it a data connection to a fake peer.
  const c = await Collective.listen({ jobId: 'job-a', transport: 'grpc' });
  cleanup.push(() => c.close());
  c.setGroup({ rank: 0, worldSize: 2, peers: [c.address, '127.0.0.1:1'], generation: 1 });
  c.setGroup({ rank: 0, worldSize: 2, peers: [c.address, '127.0.0.1:1'], generation: 2 });
  const Client = grpc.makeGenericClientConstructor({ ...svc, Pull: { ...svc.Pull, responseDeserialize: decodeChunk } } as grpc.ServiceDefinition, 'C');
  const client = new Client(c.address, grpc.credentials.createInsecure());
  cleanup.push(() => client.close());
  const pull = (req: object) => new Promise<grpc.ServiceError>((res) => {
    const call = (client as any).Pull({ job_id: 'job-a', generation: '2', seq: '1', from_rank: 1, to_rank: 0, world_size: 2, ...req });
    call.on('error', res);
    call.on('data', () => res(new Error('got data') as grpc.ServiceError));
  });
  const foreign = await pull({ job_id: 'job-b' });
  assert.equal(foreign.code, grpc.status.FAILED_PRECONDITION);
  assert.equal(foreign.details, 'pull for another job', 'the refusal names neither job');
  const stale = await pull({ generation: '1' });
  assert.equal(stale.code, grpc.status.FAILED_PRECONDITION);
  assert.match(stale.details, /generation 1 is over/);
});
