/**
 * What the coordinator's HTTP side shows about a run beyond its current status: a bounded list of events (a worker
 * joined, a rank was lost, a generation formed, the run finished), rank 0's loss curve, and counters (failures,
 * re-formations, bytes reduced). CoordinatorServer writes it; coordinator-http.ts reads it. Memory is bounded: the
 * newest MAX_EVENTS events and MAX_POINTS loss points are kept, each with a sequence number so that a live
 * client asks only for what it has not seen.
 * Test: node tools/run-tests.mjs libs/distributed coordinator-http
 */

export type BoardEventKind = 'joined' | 'lost' | 'left' | 'generation' | 'reforming' | 'finished' | 'failed';

export interface BoardEvent {
  seq: number;
  /** wall-clock ms */
  t: number;
  kind: BoardEventKind;
  text: string;
  rank?: number;
}

export interface LossPoint {
  seq: number;
  step: number;
  d_loss: number;
  g_loss: number;
}

export const MAX_EVENTS = 200;
export const MAX_POINTS = 2000;

export class RunBoard {
  readonly events: BoardEvent[] = [];
  readonly losses: LossPoint[] = [];
  private eventSeq = 0;
  private lossSeq = 0;
  private lastLossStep = -1;
  /** ranks lost: missed heartbeats or a failed / early Leave */
  failures = 0;
  /** generations formed after the first (the group re-formed: a rank lost or a worker admitted) */
  restarts = 0;
  /** workers that joined (held Join calls), over the run */
  joins = 0;
  /** payload bytes all-reduced per rank, as the ranks reported them (keyed by rank of the current generation) */
  readonly bytesReduced = new Map<number, number>();

  event(kind: BoardEventKind, text: string, rank?: number): void {
    this.events.push({ seq: ++this.eventSeq, t: Date.now(), kind, text, ...(rank === undefined ? {} : { rank }) });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    if (kind === 'lost') this.failures += 1;
    if (kind === 'joined') this.joins += 1;
  }

  /** A step report: rank 0's losses make the curve (one point per step; a replayed step after a re-form replaces nothing). */
  report(rank: number, step: number, dLoss: number, gLoss: number, bytes: number): void {
    if (bytes > 0) this.bytesReduced.set(rank, (this.bytesReduced.get(rank) ?? 0) + bytes);
    if (rank !== 0 || step === this.lastLossStep || !Number.isFinite(dLoss) || !Number.isFinite(gLoss)) return;
    this.lastLossStep = step;
    this.losses.push({ seq: ++this.lossSeq, step, d_loss: dLoss, g_loss: gLoss });
    if (this.losses.length > MAX_POINTS) this.losses.splice(0, this.losses.length - MAX_POINTS);
  }

  eventsAfter(seq: number): BoardEvent[] {
    return this.events.filter((e) => e.seq > seq);
  }

  lossesAfter(seq: number): LossPoint[] {
    return this.losses.filter((p) => p.seq > seq);
  }
}
