// The ring engine on its own, in one process, no sockets: N RingOps wired into a ring by in-memory fake links that
// serialize every chunk with the real codec and deliver it a macrotask later, in order (as a transport would).
// All-reduce must equal, bit for bit, the float32 sum taken in the ring's own order (16-bit wires: rounded at every
// hop the way the wire rounds); broadcast, all-gather and barrier complete; a foreign, duplicated or late chunk fails
// the op 'precondition', a stream that breaks or ends early fails it 'unavailable' naming the predecessor, a
// successor that vanishes is blamed after the grace period, and an abort travels round the ring naming its origin.
// No timing asserts. Run: node tools/run-tests.mjs libs/collective ring-engine
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeChunk, encodeChunk, type ChunkTag, type InChunk, type OutChunk } from './chunk-codec';
import { CollectiveError, type CollectiveCode, type CollectiveStatus } from './errors';
import { RingOp, type OpKind, type PredecessorHandlers, type SuccessorLink } from './ring-engine';
import { makePlan, splitSegments, type RingPlan } from './ring-plan';
import { makeRankData } from './testing/data';
import { roundTrip, type WireFormat } from './wire-format';

const JOB = 'engine-job';
const GENERATION = 3;
const SEQ = 7;
const address = (r: number) => `fake:${r}`;

/** What a fault may do with the chunk it intercepts. */
interface LinkControl {
  deliver(c: InChunk): void;
  end(): void;
  error(s: CollectiveStatus): void;
  /** deliver nothing more, ever (a peer that stopped) */
  silence(): void;
}

/** A chunk as the successor sees it after the wire: a private copy, payload 4-byte aligned like both transports'. */
function overTheWire(ch: OutChunk): InChunk {
  const msg = encodeChunk(ch);
  // The head is padded so the payload is aligned 5 bytes into a frame; byte 1 of a fresh buffer does as well.
  const b = Buffer.alloc(msg.length + 1);
  b.set(msg, 1);
  return decodeChunk(b.subarray(1));
}

/** `c` with some tag fields changed and a payload of 999s (a value no test data reaches). */
function forged(c: InChunk, fields: Partial<ChunkTag>): InChunk {
  const { jobId, generation, seq, phase, step, segment, index, offset, count, wire } = c;
  return overTheWire({ jobId, generation, seq, phase, step, segment, index, offset, count, wire, src: new Float32Array(offset + count).fill(999), ...fields });
}

/** The stream from one rank to its successor. */
class FakeLink implements SuccessorLink {
  cancelled = false;
  to?: PredecessorHandlers;
  /** chunks that reached the receiver (or the fault) so far */
  delivered = 0;
  private over = false;
  private silent = false;
  private readonly gone: (() => void)[] = [];

  constructor(private readonly fault?: { at: number; act: (c: InChunk, ctl: LinkControl, link: FakeLink) => void }) {}

  write(ch: OutChunk, cb: (err?: Error | null) => void): void {
    if (this.over || this.cancelled) {
      queueMicrotask(() => cb(new Error('stream closed')));
      return;
    }
    const c = overTheWire(ch);
    setImmediate(() => this.arrive(c));
    queueMicrotask(() => cb());
  }
  end(): void {
    if (this.over) return;
    this.over = true;
    setImmediate(() => this.reach((h) => h.end()));
  }
  abort(s: CollectiveStatus): void {
    if (this.over) return;
    this.over = true;
    setImmediate(() => this.reach((h) => h.error(s)));
  }
  onGone(fn: () => void): void {
    this.gone.push(fn);
  }

  /** The receiver's end: cancel() hangs up on the sender. */
  readonly inbound = {
    cancel: () => {
      if (this.cancelled) return;
      this.cancelled = true;
      if (!this.over) for (const f of this.gone) f();
    },
  };

  private reach(f: (h: PredecessorHandlers) => void): void {
    if (!this.cancelled && !this.silent && this.to) f(this.to);
  }

  private arrive(c: InChunk): void {
    this.reach((h) => {
      const k = this.delivered++;
      if (this.fault && k === this.fault.at) {
        this.fault.act(c, {
          deliver: (x) => this.reach((hh) => hh.data(x)),
          end: () => this.reach((hh) => hh.end()),
          error: (s) => this.reach((hh) => hh.error(s)),
          silence: () => void (this.silent = true),
        }, this);
      } else h.data(c);
    });
  }
}

interface RankSetup {
  kind: OpKind;
  buf: Float32Array;
  wire: WireFormat;
  mean: boolean;
  plan: RingPlan;
}

interface Ring {
  ops: RingOp[];
  links: FakeLink[];
  /** every rank's outcome */
  settled: Promise<PromiseSettledResult<void>[]>;
}

/**
 * n ops wired into a ring (links[r] carries rank r's chunks to rank r + 1) and started. `faults` puts a fault on the
 * link INTO a rank; `lateSuccessors` attaches every successor stream only after every op has started.
 */
function ring(
  n: number, setup: (rank: number) => RankSetup,
  o: { faults?: Record<number, ConstructorParameters<typeof FakeLink>[0]>; lateSuccessors?: boolean; abortGraceMs?: number } = {},
): Ring {
  const group = { worldSize: n, peers: Array.from({ length: n }, (_, r) => address(r)), generation: GENERATION };
  const ops = Array.from({ length: n }, (_, rank) => {
    const s = setup(rank);
    return new RingOp({
      ...s, jobId: JOB, group: { ...group, rank }, seq: SEQ, abortGraceMs: o.abortGraceMs ?? 60_000, self: address(rank),
    });
  });
  const links = ops.map((_, r) => new FakeLink(o.faults?.[(r + 1) % n]));
  const settled = Promise.allSettled(ops.map((op) => op.done));
  ops.forEach((op, r) => {
    if (!op.pullsFromPredecessor) return;
    const from = links[(r + n - 1) % n];
    from.to = op.fromPredecessor;
    op.attachIn(from.inbound);
  });
  const attachSuccessors = () => ops.forEach((op, r) => op.sendsToSuccessor && op.attachOut(links[r]));
  if (!o.lateSuccessors) attachSuccessors();
  ops.forEach((op) => op.start());
  if (o.lateSuccessors) setImmediate(attachSuccessors);
  return { ops, links, settled };
}

const reduceSetup = (n: number, data: Float32Array[], wire: WireFormat, mean: boolean, chunkElems: number) => (rank: number): RankSetup => ({
  kind: 'allReduce', buf: data[rank], wire, mean, plan: makePlan({ mode: 'reduce', n, rank, chunkElems, length: data[rank].length }),
});

/**
 * What every rank must end with: segment j is summed in the ring's order, starting at rank j and adding ranks
 * j+1, j+2, ... in float32 (rounded to the wire format before every hop), then scaled and rounded by its owner.
 */
function ringReference(inputs: Float32Array[], wire: WireFormat, mean: boolean): Float32Array {
  const n = inputs.length;
  const L = inputs[0].length;
  const out = new Float32Array(L);
  const { start, len } = splitSegments(L, n);
  for (let j = 0; j < n; j++) {
    for (let i = start[j]; i < start[j] + len[j]; i++) {
      let acc = inputs[j][i];
      for (let t = 1; t < n; t++) acc = Math.fround(inputs[(j + t) % n][i] + roundTrip(acc, wire));
      if (mean) acc = Math.fround(acc / n);
      out[i] = roundTrip(acc, wire);
    }
  }
  return out;
}

/** Every op must reject; returns their errors. */
async function allRejected(r: Ring): Promise<CollectiveError[]> {
  const res = await r.settled;
  return res.map((x, rank) => {
    assert.equal(x.status, 'rejected', `rank ${rank} completed an op that failed elsewhere`);
    const e = (x as PromiseRejectedResult).reason;
    assert.ok(e instanceof CollectiveError, String(e));
    return e;
  });
}

for (const n of [2, 3, 5]) {
  test(`all-reduce across ${n} engines equals the float32 sum in ring order, bit for bit, on every rank`, { timeout: 20_000 }, async () => {
    let seed = n * 1000;
    for (const length of [0, 1, n - 1, 3 * n + 1, 1000]) {
      for (const [wire, mean] of [['fp32', false], ['fp32', true], ['fp16', true], ['bf16', false]] as const) {
        const inputs = Array.from({ length: n }, (_, r) => makeRankData(seed, r, length));
        seed++;
        const bufs = inputs.map((a) => a.slice());
        // 7-element chunks: most segments are split into several pipelined chunks.
        const r = ring(n, reduceSetup(n, bufs, wire, mean, 7));
        const res = await r.settled;
        res.forEach((x, rank) => assert.equal(x.status, 'fulfilled', `rank ${rank}, length ${length}, ${wire}: ${(x as PromiseRejectedResult).reason}`));
        const want = ringReference(inputs, wire, mean);
        bufs.forEach((b, rank) => assert.deepEqual(b, want, `rank ${rank}, length ${length}, ${wire}${mean ? ' mean' : ''}`));
      }
    }
  });

  test(`broadcast, all-gather and barrier across ${n} engines`, { timeout: 20_000 }, async () => {
    for (const root of new Set([0, n - 1, Math.floor(n / 2)])) {
      const inputs = Array.from({ length: n }, (_, r) => makeRankData(n + root, r, 50));
      const bufs = inputs.map((a) => a.slice());
      const r = ring(n, (rank) => ({ kind: 'broadcast', buf: bufs[rank], wire: 'fp32', mean: false, plan: makePlan({ mode: 'chain', n, rank, chunkElems: 7, length: 50, root }) }));
      (await r.settled).forEach((x, rank) => assert.equal(x.status, 'fulfilled', `broadcast from ${root}, rank ${rank}`));
      bufs.forEach((b, rank) => assert.deepEqual(b, inputs[root], `broadcast from ${root}: rank ${rank} differs from the root's data`));
    }

    const L = 5;
    const parts = Array.from({ length: n }, (_, r) => makeRankData(99, r, L));
    const gathered = parts.map((p, rank) => {
      const out = new Float32Array(L * n);
      out.set(p, rank * L);
      return out;
    });
    const g = ring(n, (rank) => ({ kind: 'allGather', buf: gathered[rank], wire: 'fp32', mean: false, plan: makePlan({ mode: 'gather', n, rank, chunkElems: 2, length: L }) }));
    (await g.settled).forEach((x, rank) => assert.equal(x.status, 'fulfilled', `all-gather, rank ${rank}`));
    const want = new Float32Array(L * n);
    parts.forEach((p, rank) => want.set(p, rank * L));
    gathered.forEach((b, rank) => assert.deepEqual(b, want, `all-gather: rank ${rank}`));

    const b = ring(n, (rank) => ({ kind: 'barrier', buf: new Float32Array(0), wire: 'fp32', mean: false, plan: makePlan({ mode: 'gather', n, rank, chunkElems: 7, length: 0 }) }));
    (await b.settled).forEach((x, rank) => assert.equal(x.status, 'fulfilled', `barrier, rank ${rank}`));
  });
}

test('successor streams that arrive after the op started get what was queued for them', { timeout: 10_000 }, async () => {
  const n = 3;
  const inputs = Array.from({ length: n }, (_, r) => makeRankData(5, r, 100));
  const bufs = inputs.map((a) => a.slice());
  const r = ring(n, reduceSetup(n, bufs, 'fp32', false, 7), { lateSuccessors: true });
  (await r.settled).forEach((x, rank) => assert.equal(x.status, 'fulfilled', `rank ${rank}: ${(x as PromiseRejectedResult).reason}`));
  bufs.forEach((b) => assert.deepEqual(b, ringReference(inputs, 'fp32', false)));
});

const N = 3;
const VICTIM = 1;
const L = 60;

/** A 3-rank fp32 all-reduce of 10-element chunks whose link into rank 1 acts up at its third chunk. */
function faultyRing(act: (c: InChunk, ctl: LinkControl, link: FakeLink) => void) {
  const bufs = Array.from({ length: N }, (_, r) => makeRankData(11, r, L));
  return { bufs, ring: ring(N, reduceSetup(N, bufs, 'fp32', false, 10), { faults: { [VICTIM]: { at: 2, act } } }) };
}

for (const [name, act, pattern] of [
  ['a foreign chunk', (c: InChunk, ctl: LinkControl) => ctl.deliver(forged(c, { jobId: 'intruder' })), /foreign chunk: job "intruder"/],
  ['a late chunk (previous op)', (c: InChunk, ctl: LinkControl) => ctl.deliver(forged(c, { seq: SEQ - 1 })), /late chunk of op #6 in op #7/],
  ['a chunk of an old generation', (c: InChunk, ctl: LinkControl) => ctl.deliver(forged(c, { generation: GENERATION - 1 })), /chunk of generation 2 in an op of generation 3/],
  ['a duplicated chunk', (c: InChunk, ctl: LinkControl) => {
    ctl.deliver(c);
    ctl.deliver(c);
  }, /duplicate chunk/],
] as const) {
  test(`a link delivering ${name} fails the op 'precondition', naming the predecessor; the ring aborts`, { timeout: 10_000 }, async () => {
    const { bufs, ring: r } = faultyRing(act);
    const errs = await allRejected(r);
    const e = errs[VICTIM];
    assert.equal(e.code, 'precondition', e.message);
    assert.equal(e.codeName, 'FAILED_PRECONDITION');
    assert.deepEqual(e.peer, { rank: VICTIM - 1, address: address(VICTIM - 1) });
    assert.match(e.message, /refused a chunk from rank 0 \(fake:0\)/);
    assert.match(e.message, pattern);
    // The others learn it from the abort, blaming where it started: the rank that sent the refused chunk.
    for (const rank of [0, 2]) {
      assert.equal(errs[rank].code, 'precondition', errs[rank].message);
      assert.match(errs[rank].message, / aborted: /);
      assert.deepEqual(errs[rank].peer, { rank: 0, address: address(0) });
    }
    bufs.forEach((b, rank) => assert.ok(!b.includes(999), `a refused chunk reached rank ${rank}'s buffer`));
  });
}

for (const code of ['internal', 'cancelled', 'unavailable'] as CollectiveCode[]) {
  test(`a link that breaks ('${code}', no origin) fails the op 'unavailable', naming the predecessor`, { timeout: 10_000 }, async () => {
    const { ring: r } = faultyRing((_c, ctl) => {
      ctl.error({ code, details: 'connection reset by peer' });
      ctl.silence();
    });
    const e = (await allRejected(r))[VICTIM];
    assert.equal(e.code, 'unavailable', e.message);
    assert.equal(e.codeName, 'UNAVAILABLE');
    assert.deepEqual(e.peer, { rank: 0, address: address(0) });
    assert.match(e.message, /lost the stream from predecessor rank 0 \(fake:0\): connection reset by peer/);
  });
}

test(`a link that ends before every chunk arrived fails the op 'unavailable', naming the predecessor`, { timeout: 10_000 }, async () => {
  const { ring: r } = faultyRing((_c, ctl) => {
    ctl.end();
    ctl.silence();
  });
  const e = (await allRejected(r))[VICTIM];
  assert.equal(e.code, 'unavailable', e.message);
  assert.deepEqual(e.peer, { rank: 0, address: address(0) });
  assert.match(e.message, /predecessor rank 0 \(fake:0\) ended its stream after 2 of \d+ chunks/);
});

test('a successor that hangs up without a word is blamed once the grace period is over', { timeout: 10_000 }, async () => {
  // Rank 1 of 2 vanishes at its third chunk: it hangs up on rank 0 and sends nothing more.
  const bufs = [0, 1].map((r) => makeRankData(12, r, L));
  let links: FakeLink[] = [];
  const r = ring(2, reduceSetup(2, bufs, 'fp32', false, 10), {
    abortGraceMs: 5,
    faults: {
      1: {
        at: 2, act: (_c, ctl) => {
          ctl.silence();
          links[1].abort = () => {}; // rank 1's abort (once it gives up on rank 0) never leaves it either
          links[0].inbound.cancel();
        },
      },
    },
  });
  links = r.links;
  const [e0] = await allRejected(r);
  assert.equal(e0.code, 'unavailable', e0.message);
  assert.deepEqual(e0.peer, { rank: 1, address: address(1) });
  assert.match(e0.message, /successor rank 1 \(fake:1\) closed its stream/);
});

test('an abort travels round the ring: every rank fails with its code, naming the rank it started at', { timeout: 10_000 }, async () => {
  const n = 5;
  const origin = 2;
  const bufs = Array.from({ length: n }, (_, r) => makeRankData(13, r, 200));
  let ops: RingOp[] = [];
  const r = ring(n, reduceSetup(n, bufs, 'fp32', false, 10), {
    faults: {
      [origin]: {
        at: 3, act: () => ops[origin].fail(new CollectiveError('resource-exhausted', `rank ${origin}: out of memory`)),
      },
    },
  });
  ops = r.ops;
  const errs = await allRejected(r);
  assert.equal(errs[origin].message, `rank ${origin}: out of memory`);
  errs.forEach((e, rank) => {
    assert.equal(e.code, 'resource-exhausted', `rank ${rank}: ${e.message}`);
    assert.equal(e.codeName, 'RESOURCE_EXHAUSTED');
    if (rank === origin) return;
    assert.deepEqual(e.peer, { rank: origin, address: address(origin) }, `rank ${rank}: ${e.message}`);
    assert.match(e.message, new RegExp(`allReduce #${SEQ} \\(generation ${GENERATION}\\) aborted: rank ${origin}: out of memory`));
  });
});
