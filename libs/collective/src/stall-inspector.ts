// The stall inspector: watches the running op for progress. After `stallWarnMs` without any it probes every peer and
// logs which ranks have not joined the op and which do not answer; after `opTimeoutMs` it probes again and fails
// the op with the most specific blame it can: a peer that does not answer (DEADLINE_EXCEEDED), one that is
// unreachable (UNAVAILABLE), one that has not reached this op, or else the predecessor the op is waiting on.
// Not run directly; tests: node tools/run-tests.mjs libs/collective faults
import { performance } from 'node:perf_hooks';
import type { ProbeRequest } from '@gan/proto';
import { CODE_NAME, CollectiveError, peerName, type PeerRef } from './errors';
import type { ProbeOutcome } from './grpc-transport';
import type { Logger } from './logger';
import type { RingOp } from './ring-engine';

export interface StallInspectorOptions {
  jobId: string;
  opTimeoutMs: number;
  stallWarnMs: number;
  log: Logger;
  probe(peer: PeerRef, req: ProbeRequest, deadlineMs: number): Promise<ProbeOutcome>;
}

export class StallInspector {
  private readonly tickMs: number;

  constructor(private readonly o: StallInspectorOptions) {
    this.tickMs = Math.max(10, Math.min(250, Math.floor(Math.min(o.opTimeoutMs, o.stallWarnMs) / 4)));
  }

  /** Watch `op` until the returned function is called (or it settles). */
  watch(op: RingOp): () => void {
    const state = { warned: false, timingOut: false };
    const timer = setInterval(() => {
      if (op.settled) clearInterval(timer);
      else this.inspect(op, state);
    }, this.tickMs);
    return () => clearInterval(timer);
  }

  /** Periodic check of the running op: stall warning, then the inactivity deadline. */
  private inspect(op: RingOp, state: { warned: boolean; timingOut: boolean }): void {
    if (state.timingOut) return;
    const { opTimeoutMs, stallWarnMs } = this.o;
    const idle = Math.round(performance.now() - op.lastProgress);
    if (idle >= opTimeoutMs) {
      state.timingOut = true;
      void this.probeAll(op, Math.min(1000, Math.max(100, opTimeoutMs / 4))).then((probes) => {
        if (op.settled) return;
        op.fail(blame(op, idle, probes));
      });
    } else if (idle >= stallWarnMs && !state.warned) {
      state.warned = true;
      void this.probeAll(op, Math.min(1000, stallWarnMs)).then((probes) => {
        if (op.settled) return;
        const { notJoined, unresponsive } = classify(op, probes);
        this.o.log.warn(
          { op: op.name, waitingMs: Math.round(performance.now() - op.startedAt), notJoined, unresponsive, receivedChunks: op.received, expectedChunks: op.expected },
          `stall: ${op.name} has made no progress for ${idle} ms; ranks not joined: ${notJoined.map((x) => x.rank).join(', ') || 'none'}; unresponsive: ${unresponsive.map((x) => x.rank).join(', ') || 'none'}`,
        );
      });
    }
  }

  private probeAll(op: RingOp, deadlineMs: number): Promise<ProbeOutcome[]> {
    const g = op.group;
    const jobs: Promise<ProbeOutcome>[] = [];
    for (let r = 0; r < g.worldSize; r++) {
      if (r === g.rank) continue;
      jobs.push(this.o.probe({ rank: r, address: g.peers[r] }, { job_id: this.o.jobId, from_rank: g.rank }, deadlineMs));
    }
    return Promise.all(jobs);
  }
}

function blame(op: RingOp, idle: number, probes: ProbeOutcome[]): CollectiveError {
  const head = `${op.name} made no progress for ${idle} ms`;
  const { notJoined, unresponsive } = classify(op, probes);
  const dead = probes.find((p) => p.err && p.err.code !== 'deadline');
  const hung = probes.find((p) => p.err?.code === 'deadline');
  if (hung) return new CollectiveError('deadline', `${head}: ${peerName(hung.peer)} does not answer (stopped or hung); unresponsive: ${unresponsive.map((x) => x.rank).join(', ')}`, hung.peer);
  if (dead) return new CollectiveError('unavailable', `${head}: ${peerName(dead.peer)} is unreachable: ${dead.err!.details}`, dead.peer);
  if (notJoined.length) {
    const p = notJoined[0];
    return new CollectiveError('deadline', `${head}: ${peerName(p)} has not joined it (it is at generation ${p.generation} op #${p.seq}); not joined: ${notJoined.map((x) => x.rank).join(', ')}`, { rank: p.rank, address: p.address });
  }
  return new CollectiveError('deadline', `${head}: waiting on predecessor ${peerName(op.pred)}`, op.pred);
}

/** Peers behind this op (an older generation or op) and peers whose probe failed. */
function classify(op: RingOp, probes: ProbeOutcome[]) {
  const notJoined: (PeerRef & { generation: number; seq: number })[] = [];
  const unresponsive: (PeerRef & { error: string })[] = [];
  for (const p of probes) {
    if (p.err || !p.reply) {
      unresponsive.push({ ...p.peer, error: p.err ? CODE_NAME[p.err.code] : 'no reply' });
      continue;
    }
    const gen = Number(p.reply.generation);
    const seq = Number(p.reply.seq);
    if (gen < op.group.generation || (gen === op.group.generation && seq < op.seq)) notJoined.push({ ...p.peer, generation: gen, seq });
  }
  return { notJoined, unresponsive };
}
