// The ring engine: one collective op on one rank, between a stream from its predecessor and a stream to its
// successor, with no idea what carries them (gRPC Pull, the TCP/Unix data link, or a test's in-memory fake). It
// sends its first chunks, reduces (or copies) every received chunk into place after the tag check and forwards it
// in the same tick, and settles once every expected chunk is in and every write has been flushed. See ring-plan.ts
// for the geometry.
//
// Failure anywhere ends the outgoing stream with a status naming the rank the failure started at, so the abort
// travels round the ring in milliseconds. A successor that hangs up gets `abortGraceMs` for its abort reason to come
// round from the other side before this rank blames it. Deadlines and stall reports are the stall inspector's.
// Not run directly; tests: node tools/run-tests.mjs libs/collective ring-engine
import { performance } from 'node:perf_hooks';
import { payloadSizeError, payloadView, PHASE, WIRE_CODE, type InChunk, type OutChunk } from './chunk-codec';
import { CollectiveError, peerName, type CollectiveStatus, type PeerRef } from './errors';
import {
  checkChunk, chunkRange, expectedReceives, hasPredecessorStream, hasSuccessorStream, sendSegment, slotCount,
  type ExpectedOp, type RingPlan,
} from './ring-plan';
import { addInto, divideBy } from './simd-add';
import { decode16, decodeAdd16, quantizeInPlace, type WireFormat } from './wire-format';

export interface GroupSpec {
  rank: number;
  worldSize: number;
  /** address of every rank, index = rank */
  peers: string[];
  generation: number;
}

export type OpKind = 'allReduce' | 'broadcast' | 'allGather' | 'barrier';

/** What the predecessor's stream reports to the op. */
export interface PredecessorHandlers {
  data(c: InChunk): void;
  error(s: CollectiveStatus): void;
  end(): void;
}

/** The op's end of its predecessor's stream; cancel() tells the predecessor to stop sending. */
export interface PredecessorLink {
  cancel(): void;
}

/** Where the op's chunks for its successor go. */
export interface SuccessorLink {
  /** the successor is gone (closed the connection / cancelled the call) */
  readonly cancelled: boolean;
  /**
   * cb runs once the chunk has left this process's buffers (or with an error if it never will). Until then the
   * chunk's region of `src` must stay as it is: a transport may send straight from it.
   */
  write(ch: OutChunk, cb: (err?: Error | null) => void): void;
  /** the op's stream ended normally */
  end(): void;
  /** refuse the pull or abort the op with this status */
  abort(s: CollectiveStatus): void;
  /** the successor hung up before the stream ended */
  onGone(fn: () => void): void;
}

export interface RingOpSpec {
  kind: OpKind;
  jobId: string;
  group: GroupSpec;
  seq: number;
  /** the buffer the ring works on: the caller's (allReduce, broadcast) or the gathered result */
  buf: Float32Array;
  wire: WireFormat;
  /** divide the finished sum by the world size */
  mean: boolean;
  plan: RingPlan;
  /** how long a rank whose successor hung up waits for the abort reason to come round the ring */
  abortGraceMs: number;
  /** this rank's address, named as the origin of a failure that starts here */
  self: string;
  /** told once, before `done` rejects, with the status the op's streams end with */
  onFail?(op: RingOp, s: CollectiveStatus, e: CollectiveError): void;
}

/** One op in flight on this rank. */
export class RingOp {
  readonly kind: OpKind;
  readonly group: GroupSpec;
  readonly seq: number;
  readonly plan: RingPlan;
  /** chunks this rank must receive */
  readonly expected: number;
  received = 0;
  settled = false;
  error?: CollectiveError;
  // Monotonic: a wall-clock step must not time an op out (or keep a stalled one alive).
  readonly startedAt = performance.now();
  lastProgress = performance.now();
  /** Settles with the op; rejects with a CollectiveError. */
  readonly done: Promise<void>;
  /** Hand these to whatever carries the predecessor's stream. */
  readonly fromPredecessor: PredecessorHandlers = {
    data: (c) => this.onChunk(c),
    error: (s) => this.onInError(s),
    end: () => this.onInEnd(),
  };

  private readonly spec: RingOpSpec;
  private readonly buf: Float32Array;
  private readonly wire: WireFormat;
  private readonly seen: Uint8Array;
  /** what every received chunk's tag must say */
  private readonly tag: ExpectedOp;
  private outPending = 0;
  private out?: SuccessorLink;
  private in?: PredecessorLink;
  /** chunks sent before the successor's stream arrived */
  private queue: OutChunk[] = [];
  /** start() has run: the op has queued what it sends first. */
  private started = false;
  private graceTimer?: NodeJS.Timeout;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;

  constructor(spec: RingOpSpec) {
    this.spec = spec;
    this.kind = spec.kind;
    this.group = spec.group;
    this.seq = spec.seq;
    this.plan = spec.plan;
    this.buf = spec.buf;
    this.wire = spec.wire;
    this.seen = new Uint8Array(slotCount(spec.plan));
    this.expected = expectedReceives(spec.plan);
    this.tag = { jobId: spec.jobId, generation: spec.group.generation, seq: spec.seq, wire: WIRE_CODE[spec.wire] };
    this.done = new Promise((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
  }

  get name(): string {
    return `${this.kind} #${this.seq} (generation ${this.group.generation})`;
  }
  peer(rank: number): PeerRef {
    const n = this.group.worldSize;
    const r = ((rank % n) + n) % n;
    return { rank: r, address: this.group.peers[r] };
  }
  get pred(): PeerRef {
    return this.peer(this.group.rank - 1);
  }
  get succ(): PeerRef {
    return this.peer(this.group.rank + 1);
  }
  /** this rank pulls from its predecessor in this op (all but a broadcast root) */
  get pullsFromPredecessor(): boolean {
    return hasPredecessorStream(this.plan);
  }
  /** this rank's successor pulls from it in this op (all but the rank before a broadcast root) */
  get sendsToSuccessor(): boolean {
    return hasSuccessorStream(this.plan);
  }
  /** the successor's stream has been attached */
  get hasSuccessor(): boolean {
    return this.out !== undefined;
  }

  /** Send everything this rank sends before it has received anything. */
  start(): void {
    this.started = true;
    const p = this.plan;
    if (p.mode === 'reduce') {
      const seg = sendSegment(p, PHASE.REDUCE_SCATTER, 0);
      for (let k = 0; k < p.nChunks[seg]; k++) this.sendChunk(PHASE.REDUCE_SCATTER, 0, seg, k);
    } else if (p.mode === 'gather') {
      const seg = sendSegment(p, PHASE.GATHER, 0);
      for (let k = 0; k < p.nChunks[seg]; k++) this.sendChunk(PHASE.GATHER, 0, seg, k);
    } else if (p.rank === p.root) {
      for (let k = 0; k < p.nChunks[0]; k++) this.sendChunk(PHASE.CHAIN, 0, 0, k);
    }
    this.maybeFinish();
  }

  /** The predecessor's stream is open; the op cancels it if it fails. */
  attachIn(link: PredecessorLink): void {
    this.in = link;
  }

  /** The successor's stream arrived (before or after start()); what was queued for it goes out now. */
  attachOut(out: SuccessorLink): void {
    this.out = out;
    this.progress();
    out.onGone(() => this.onSuccessorGone());
    const q = this.queue;
    this.queue = [];
    for (const ch of q) this.send(ch);
    this.maybeFinish();
  }

  fail(e: CollectiveError): void {
    if (this.settled) return;
    this.settled = true;
    this.error = e;
    this.cleanup();
    this.queue = [];
    const origin = e.peer && e.peer.rank !== this.group.rank ? e.peer : { rank: this.group.rank, address: this.spec.self };
    const s: CollectiveStatus = { code: e.code, details: e.message, origin };
    if (this.out && !this.out.cancelled) this.out.abort(s);
    this.spec.onFail?.(this, s, e);
    this.in?.cancel();
    this.rejectDone(e);
  }

  private progress(): void {
    this.lastProgress = performance.now();
  }

  private send(ch: OutChunk): void {
    if (this.settled) return;
    if (!this.out) {
      this.queue.push(ch);
      return;
    }
    this.outPending++;
    this.out.write(ch, (err?: Error | null) => {
      this.outPending--;
      if (err) return; // the successor-gone path reports it
      this.progress();
      this.maybeFinish();
    });
  }

  /** chunk k of segment seg at (phase, step), from this.buf */
  private sendChunk(phase: number, step: number, seg: number, k: number): void {
    const [offset, count] = chunkRange(this.plan, seg, k);
    this.send({
      jobId: this.tag.jobId, generation: this.tag.generation, seq: this.seq, phase, step, segment: seg, index: k,
      offset, count, wire: this.tag.wire, src: this.buf,
    });
  }

  private onChunk(c: InChunk): void {
    if (this.settled) return;
    // The size check (after the tag check has pinned the wire format) keeps payloadView below from throwing.
    const why = checkChunk(this.plan, this.tag, c, this.seen) ?? payloadSizeError(c);
    if (why) {
      this.fail(new CollectiveError('precondition', `${this.name}: refused a chunk from ${peerName(this.pred)}: ${why}`, this.pred));
      return;
    }
    this.progress();
    this.received++;
    const p = this.plan;
    const n = p.n;
    if (c.count > 0) {
      const data = payloadView(c);
      const dst = this.buf.subarray(c.offset, c.offset + c.count);
      if (c.phase === PHASE.REDUCE_SCATTER) {
        if (data instanceof Float32Array) addInto(dst, data);
        else decodeAdd16(data, dst, this.wire as 'fp16' | 'bf16');
        if (c.step === n - 2) {
          // This rank now holds the finished sum of this chunk: it alone scales and rounds it, then passes copies.
          if (this.spec.mean) divideBy(dst, n);
          quantizeInPlace(dst, this.wire);
        }
      } else if (data instanceof Float32Array) dst.set(data);
      else decode16(data, dst, this.wire as 'fp16' | 'bf16');
    }
    if (c.phase === PHASE.REDUCE_SCATTER) {
      if (c.step < n - 2) this.sendChunk(PHASE.REDUCE_SCATTER, c.step + 1, c.segment, c.index);
      else this.sendChunk(PHASE.GATHER, 0, c.segment, c.index);
    } else if (c.phase === PHASE.GATHER) {
      if (c.step < n - 2) this.sendChunk(PHASE.GATHER, c.step + 1, c.segment, c.index);
    } else if (hasSuccessorStream(p)) this.sendChunk(PHASE.CHAIN, 0, 0, c.index);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    // Not before start(): a successor stream attached early must not finish a root that has sent nothing yet.
    if (!this.started || this.settled || this.received < this.expected || this.outPending > 0 || this.queue.length > 0) return;
    if (hasSuccessorStream(this.plan) && !this.out) return;
    this.settled = true;
    this.cleanup();
    this.out?.end();
    this.resolveDone();
  }

  /** The predecessor's stream failed. */
  private onInError(err: CollectiveStatus): void {
    if (this.settled) return;
    if (err.origin) {
      this.fail(new CollectiveError(err.code, `${this.name} aborted: ${err.details}`, err.origin));
      return;
    }
    // A lost connection surfaces as one of these, depending on the transport: to the ring it is the same thing.
    const code = err.code === 'cancelled' || err.code === 'unknown' || err.code === 'internal' ? 'unavailable' : err.code;
    this.fail(new CollectiveError(code, `${this.name}: lost the stream from predecessor ${peerName(this.pred)}: ${err.details}`, this.pred));
  }

  private onInEnd(): void {
    if (this.settled || this.received >= this.expected) return;
    this.fail(new CollectiveError('unavailable', `${this.name}: predecessor ${peerName(this.pred)} ended its stream after ${this.received} of ${this.expected} chunks`, this.pred));
  }

  /** The successor hung up: died, or aborted. Give the abort reason a moment to come round the ring. */
  private onSuccessorGone(): void {
    if (this.settled || this.graceTimer) return;
    this.graceTimer = setTimeout(() => {
      this.fail(new CollectiveError('unavailable', `${this.name}: successor ${peerName(this.succ)} closed its stream (died or aborted)`, this.succ));
    }, this.spec.abortGraceMs);
  }

  private cleanup(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }
}
