// Geometry of one ring op (which segment and chunk goes where at which step) and the check every received chunk
// must pass. Pure; shared by the op engine and its tests.
//
// Ring (N ranks, buffer split into N contiguous segments, each into chunks of `chunkElems`; an empty segment still
// has one empty chunk so every step carries a message and the ring stays in lock-step):
//   reduce-scatter step s = 0..N-2: rank r sends segment (r - s) mod N and adds the received (r - s - 1) mod N;
//     afterwards rank r holds the full sum of segment (r + 1) mod N.
//   gather step t = 0..N-2 (ownership offset o: 1 after a reduce-scatter, 0 for all-gather): rank r sends
//     (r + o - t) mod N and copies the received (r + o - t - 1) mod N.
//   chain (broadcast): one segment passed root -> root+1 -> ... -> root-1, chunk by chunk.
import { PHASE, type ChunkTag } from './chunk-codec';

export interface RingPlan {
  n: number;
  rank: number;
  chunkElems: number;
  /** first element of each segment */
  segStart: number[];
  segLen: number[];
  /** chunks per segment, at least 1 */
  nChunks: number[];
  maxChunks: number;
  /** 'reduce' = reduce-scatter + gather (o = 1); 'gather' = all-gather (o = 0); 'chain' = broadcast */
  mode: 'reduce' | 'gather' | 'chain';
  /** broadcast root (chain mode) */
  root: number;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** Split `length` elements into n near-equal contiguous segments (the first length % n get one more). */
export function splitSegments(length: number, n: number): { start: number[]; len: number[] } {
  const base = Math.floor(length / n);
  const rem = length % n;
  const start: number[] = [];
  const len: number[] = [];
  for (let j = 0; j < n; j++) {
    start.push(j * base + Math.min(j, rem));
    len.push(base + (j < rem ? 1 : 0));
  }
  return { start, len };
}

export function makePlan(opts: {
  mode: RingPlan['mode'];
  n: number;
  rank: number;
  chunkElems: number;
  /** reduce/chain: the buffer length; gather: elements per rank */
  length: number;
  root?: number;
}): RingPlan {
  const { mode, n, rank, chunkElems, length } = opts;
  let segStart: number[];
  let segLen: number[];
  if (mode === 'reduce') ({ start: segStart, len: segLen } = splitSegments(length, n));
  else if (mode === 'gather') {
    segStart = Array.from({ length: n }, (_, j) => j * length);
    segLen = Array.from({ length: n }, () => length);
  } else {
    segStart = [0];
    segLen = [length];
  }
  const nChunks = segLen.map((l) => Math.max(1, Math.ceil(l / chunkElems)));
  return { n, rank, chunkElems, segStart, segLen, nChunks, maxChunks: Math.max(...nChunks), mode, root: opts.root ?? 0 };
}

/** [offset, count] of chunk k of segment seg. */
export function chunkRange(p: RingPlan, seg: number, k: number): [number, number] {
  const off = k * p.chunkElems;
  return [p.segStart[seg] + off, Math.max(0, Math.min(p.chunkElems, p.segLen[seg] - off))];
}

/** Segment this rank sends at (phase, step). */
export function sendSegment(p: RingPlan, phase: number, step: number): number {
  if (phase === PHASE.REDUCE_SCATTER) return mod(p.rank - step, p.n);
  if (phase === PHASE.GATHER) return mod(p.rank + (p.mode === 'reduce' ? 1 : 0) - step, p.n);
  return 0;
}

/** Segment this rank receives at (phase, step). */
export function recvSegment(p: RingPlan, phase: number, step: number): number {
  if (phase === PHASE.REDUCE_SCATTER) return mod(p.rank - step - 1, p.n);
  if (phase === PHASE.GATHER) return mod(p.rank + (p.mode === 'reduce' ? 1 : 0) - step - 1, p.n);
  return 0;
}

/** Chunks this rank must receive in the whole op. */
export function expectedReceives(p: RingPlan): number {
  if (p.n === 1) return 0;
  if (p.mode === 'chain') return p.rank === p.root ? 0 : p.nChunks[0];
  let total = 0;
  for (let s = 0; s < p.n - 1; s++) {
    if (p.mode === 'reduce') total += p.nChunks[recvSegment(p, PHASE.REDUCE_SCATTER, s)];
    total += p.nChunks[recvSegment(p, PHASE.GATHER, s)];
  }
  return total;
}

/** Whether this rank's successor pulls data from it in this op (false only for the last rank of a broadcast chain). */
export function hasSuccessorStream(p: RingPlan): boolean {
  return p.n > 1 && !(p.mode === 'chain' && mod(p.rank + 1, p.n) === p.root);
}
/** Whether this rank pulls from its predecessor (false only for a broadcast root). */
export function hasPredecessorStream(p: RingPlan): boolean {
  return p.n > 1 && !(p.mode === 'chain' && p.rank === p.root);
}

/** Bitmap slot of a chunk, for duplicate detection; -1 if the (phase, step) is not one this rank receives. */
export function chunkSlot(p: RingPlan, phase: number, step: number, index: number): number {
  const phases = p.mode === 'reduce' ? [PHASE.REDUCE_SCATTER, PHASE.GATHER] : p.mode === 'gather' ? [PHASE.GATHER] : [PHASE.CHAIN];
  const pi = phases.indexOf(phase as never);
  const steps = p.mode === 'chain' ? 1 : p.n - 1;
  if (pi < 0 || step < 0 || step >= steps) return -1;
  return (pi * steps + step) * p.maxChunks + index;
}

export function slotCount(p: RingPlan): number {
  return (p.mode === 'reduce' ? 2 : 1) * (p.mode === 'chain' ? 1 : p.n - 1) * p.maxChunks;
}

/** What the receiver knows about its op; every received tag field must match. */
export interface ExpectedOp {
  jobId: string;
  generation: number;
  seq: number;
  wire: number;
}

/**
 * Check a received chunk against the op and the chunks already seen (`seen` is marked on success).
 * Returns null when it belongs here, else a one-line reason (late, foreign, duplicated or malformed).
 */
export function checkChunk(p: RingPlan, op: ExpectedOp, c: ChunkTag, seen: Uint8Array): string | null {
  if (c.jobId !== op.jobId) return `foreign chunk: job ${JSON.stringify(c.jobId)}, expected ${JSON.stringify(op.jobId)}`;
  if (c.generation !== op.generation) return `chunk of generation ${c.generation} in an op of generation ${op.generation}`;
  if (c.seq !== op.seq) return `${c.seq < op.seq ? 'late' : 'early'} chunk of op #${c.seq} in op #${op.seq}`;
  if (c.wire !== op.wire) return `chunk in wire format ${c.wire}, op uses ${op.wire}`;
  const slot = chunkSlot(p, c.phase, c.step, c.index);
  if (slot < 0) return `unexpected phase ${c.phase} step ${c.step}`;
  const seg = recvSegment(p, c.phase, c.step);
  if (c.segment !== seg) return `chunk of segment ${c.segment} at phase ${c.phase} step ${c.step}, expected segment ${seg}`;
  if (c.index >= p.nChunks[seg]) return `chunk index ${c.index} out of range (segment ${seg} has ${p.nChunks[seg]})`;
  const [off, count] = chunkRange(p, seg, c.index);
  if (c.offset !== off || c.count !== count) return `chunk covers [${c.offset}, +${c.count}), expected [${off}, +${count})`;
  if (seen[slot]) return `duplicate chunk: phase ${c.phase} step ${c.step} index ${c.index}`;
  seen[slot] = 1;
  return null;
}
