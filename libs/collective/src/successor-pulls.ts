// Where successors' pulls land, from either transport's server: a pull is refused (another job, an old generation,
// the wrong ring position, an op already over here), hooked up to the running op once its request proves it is in
// the same op, or held until this rank reaches that op (a successor may be ahead). The last failed op's status is
// kept so a successor that pulls after the failure still learns the rank it started at.
// Not run directly; tests: node tools/run-tests.mjs libs/collective tags
import type { PullRequest, PullRequest__Output } from '@gan/proto';
import { CollectiveError, peerName, type CollectiveCode, type CollectiveStatus } from './errors';
import type { Logger } from './logger';
import { shapeDiff } from './op-shape';
import type { GroupSpec, RingOp, SuccessorLink } from './ring-engine';

/** A successor's pull of one op, as either transport's server hands it over. */
export interface ServedPull extends SuccessorLink {
  readonly request: PullRequest__Output;
}

/** The op this rank is running, and the request that describes it (a successor's pull must say the same). */
export interface Running {
  op: RingOp;
  shape: PullRequest;
}

/** What the admission of a pull needs to know of the collective it serves, at that moment. */
export interface CollectiveState {
  readonly closed: boolean;
  readonly group?: GroupSpec;
  /** the last op number this rank has taken in the current generation */
  readonly seq: number;
  readonly current?: Running;
}

/** Pulls held for an op this rank has not reached yet: beyond this many, more are refused. */
const MAX_PENDING = 64;

export class SuccessorPulls {
  private readonly pending = new Map<string, ServedPull>();
  private lastAbort?: { generation: number; seq: number; status: CollectiveStatus };

  constructor(
    private readonly jobId: string,
    private readonly log: Logger,
    private readonly now: () => CollectiveState,
  ) {}

  onPull(call: ServedPull): void {
    const r = call.request;
    const gen = Number(r.generation);
    const seq = Number(r.seq);
    const state = this.now();
    const refuse = (code: CollectiveCode, details: string) => {
      this.log.debug({ from: r.from_rank, gen, seq, details }, 'collective refused a pull');
      call.abort({ code, details });
    };
    // The refusal names nothing of this run (its job id is derived from the run secret).
    if (r.job_id !== this.jobId) return refuse('precondition', 'pull for another job');
    if (state.closed) return refuse('unavailable', 'collective closed');
    const g = state.group;
    if (g && gen < g.generation) return refuse('precondition', `generation ${gen} is over (now ${g.generation})`);
    if (g && gen === g.generation) {
      if (r.to_rank !== g.rank || r.from_rank !== (g.rank + 1) % g.worldSize) {
        return refuse('precondition', `rank ${r.from_rank} pulled from rank ${r.to_rank}, but this is rank ${g.rank} whose successor is ${(g.rank + 1) % g.worldSize}`);
      }
      const a = this.lastAbort;
      if (a && a.generation === gen && a.seq === seq) {
        call.abort(a.status);
        return;
      }
      const cur = state.current;
      if (cur && cur.op.seq === seq && !cur.op.settled) {
        if (cur.op.hasSuccessor) return refuse('already-exists', `op #${seq} already has a successor stream`);
        if (!cur.op.sendsToSuccessor) return refuse('precondition', `${cur.op.name}: rank ${g.rank} sends nothing in this op`);
        this.attach(cur, call);
        return;
      }
      if (seq <= state.seq) return refuse('precondition', `op #${seq} of generation ${gen} is already over here (at #${state.seq})`);
    }
    // An op this rank has not reached yet (or a generation it has not been told of): hold the call until then.
    const key = `${gen}:${seq}`;
    if (this.pending.has(key)) return refuse('already-exists', `op #${seq} already has a pending successor stream`);
    if (this.pending.size >= MAX_PENDING) return refuse('resource-exhausted', 'too many pending pulls');
    this.pending.set(key, call);
    call.onGone(() => {
      if (this.pending.get(key) === call) this.pending.delete(key);
    });
  }

  /** The op is starting: hook up its successor's pull if it arrived ahead of it. */
  claim(r: Running): void {
    const key = `${r.op.group.generation}:${r.op.seq}`;
    const call = this.pending.get(key);
    if (call) {
      this.pending.delete(key);
      this.attach(r, call);
    }
  }

  /** The op failed: a pull of it now or later is answered with its status. */
  rememberAbort(op: RingOp, s: CollectiveStatus): void {
    this.lastAbort = { generation: op.group.generation, seq: op.seq, status: s };
    const key = `${op.group.generation}:${op.seq}`;
    const call = this.pending.get(key);
    if (call) {
      this.pending.delete(key);
      call.abort(s);
    }
  }

  /** Refuse the held pulls of generations before `generation`. */
  newGeneration(generation: number): void {
    for (const [key, out] of this.pending) {
      const gen = Number(key.split(':')[0]);
      if (gen < generation) {
        this.pending.delete(key);
        out.abort({ code: 'precondition', details: `generation ${gen} is over (now ${generation})` });
      }
    }
  }

  /** Refuse every held pull. */
  refuseAll(s: CollectiveStatus): void {
    for (const out of this.pending.values()) out.abort(s);
    this.pending.clear();
  }

  /** Hook the successor's pull up to our op once its request proves it is in the same op. */
  private attach(r: Running, call: ServedPull): void {
    const diffs = shapeDiff(call.request, r.shape);
    if (diffs.length) {
      const e = new CollectiveError('precondition', `${r.op.name}: successor ${peerName(r.op.succ)} is in a different op: ${diffs.join(', ')}`, r.op.succ);
      call.abort({ code: e.code, details: e.message });
      r.op.fail(e);
      return;
    }
    r.op.attachOut(call);
  }
}
