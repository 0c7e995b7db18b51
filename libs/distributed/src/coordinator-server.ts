/**
 * The coordinator: membership, ranks and ring order, the shard plan (rank r of N reads shard r of the
 * DistributedSampler), health (heartbeats), aggregated step reports and orderly shutdown. It moves no tensor data.
 *
 * Generation life cycle: `waiting` (Join calls are held open) → `training` once `workers` have joined (or
 * `minWorkers` after a grace period) → `finished` when every worker left cleanly, or `failed` the moment one
 * worker fails, misses heartbeats or leaves early; the others learn it from their next heartbeat reply and exit.
 * The legal moves are the table in run-state.ts; this file only fires events at its RunLifecycle.
 *
 * Trust: with a run secret every call must carry the run token (checked by an interceptor before any handler), a
 * restarted coordinator adopts a generation only with a ticket it signed, and rank 0 — whose state every replica
 * adopts — is chosen from steps the coordinator saw reported, never from a worker's claim alone.
 */
import * as grpc from '@grpc/grpc-js';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { RunCredentials } from '@gan/auth';
import { diffConfigs, fingerprint, validateConfig, type TrainConfig } from '@gan/config';
import type {
  Ack, DataEndpointMessage, HeartbeatReply, HeartbeatRequest__Output, JoinReply, JoinRequest__Output, LeaveRequest__Output, RunStatus,
  ShutdownRequest__Output, StepReport__Output,
} from '@gan/proto';
import { coordinatorPackage, StatusError, unary } from './rpc';
import { JoinLimiter } from './join-limiter';
import { RunLifecycle, type RunEvent, type RunState } from './run-state';
import { RunBoard } from './run-board';

export type { RunState };

export interface CoordinatorLog {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

/**
 * How long a member of a new generation may take to send its first heartbeat: a worker's heartbeat thread boots in
 * about a second, several on a loaded machine, and rank 0's main thread is inside its first step meanwhile. A
 * member that dies that early is still caught sooner by its peers' collective deadline.
 */
const FIRST_BEAT_GRACE_MS = 10_000;
/** How long a restarted coordinator waits for each member of the generation it adopted to re-register. */
const ADOPT_GRACE_MS = 10_000;
/** Largest request: a Join carries the worker's config (a few KiB) and its peer list. */
const MAX_REQUEST_BYTES = 1 << 20;
const TICKET_LABEL = 'gan-train/generation-ticket/v1';

/** Liveness and timers run on the monotonic clock: a wall-clock step must not mark every worker dead. */
const now = (): number => performance.now();

interface Member {
  workerId: string;
  address: string;
  /** where its collective accepts its successor's data connection */
  data: DataEndpointMessage;
  rank: number;
  lastSeen: number;
  /** a heartbeat or step report came from it in this generation */
  heard: boolean;
  step: number;
  left: boolean;
  failed: boolean;
  dead: boolean;
}

interface PendingJoin {
  workerId: string;
  address: string;
  data: DataEndpointMessage;
  committedStep: number;
  /** Rank in the previous generation (for a stable order among equals); Infinity for newcomers. */
  prevRank: number;
  reply: grpc.sendUnaryData<JoinReply>;
  call: grpc.ServerUnaryCall<JoinRequest__Output, JoinReply>;
}

/** One member as the dashboard shows it. */
export interface MemberView {
  rank: number;
  address: string;
  step: number;
  /** ms since its last heartbeat or report */
  lastSeenMs: number;
  health: 'ok' | 'silent' | 'dead' | 'failed' | 'left';
}

export interface CoordinatorOptions {
  config: TrainConfig;
  logger: CoordinatorLog;
  listen: string;
  /** Grace period after `minWorkers` have joined before training starts without the rest. */
  joinGraceMs?: number;
  /** Give up when the generation is not full after this long (also the wait for workers below --min-workers). */
  joinTimeoutMs?: number;
  /** The run's credentials (@gan/auth); default: none (in-process tests, --insecure). */
  credentials?: RunCredentials;
  /** How long a member of a new generation may take to send its first heartbeat (default FIRST_BEAT_GRACE_MS). */
  firstBeatGraceMs?: number;
}

export class CoordinatorServer {
  readonly jobId = randomUUID();
  private readonly server: grpc.Server;
  private readonly creds: RunCredentials;
  private readonly joins = new JoinLimiter();
  private readonly fp: string;
  /** The only place the run's state changes; `state` and `reason` below are read-only views of it. */
  private readonly run = new RunLifecycle();
  private generation = 0;
  private readonly pending: PendingJoin[] = [];
  private members: Member[] = [];
  private lastReport = new Map<number, StepReport__Output>();
  private monitor: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private joinTimer: NodeJS.Timeout | null = null;
  private reformDeadline = 0;
  private reformWanted = false;
  private finish!: (r: { failed: boolean; reason: string }) => void;
  /** Resolves when the run is over and every worker has left or been declared dead. */
  readonly done = new Promise<{ failed: boolean; reason: string }>((r) => (this.finish = r));
  address = '';
  /** Generations formed so far, with their sizes (for tests and status). */
  readonly history: { generation: number; worldSize: number; step: number; at: number }[] = [];
  /** Events, rank 0's loss curve and counters, for the HTTP dashboard and /metrics (coordinator-http.ts). */
  readonly board = new RunBoard();

  constructor(private readonly opts: CoordinatorOptions) {
    this.fp = fingerprint(opts.config);
    this.creds = opts.credentials ?? RunCredentials.insecure();
    this.server = new grpc.Server(this.creds.grpcServerOptions(opts.logger, 'coordinator', MAX_REQUEST_BYTES).options);
    const svc = coordinatorPackage().Coordinator.service;
    this.server.addService(svc, {
      Join: this.join,
      Heartbeat: unary<HeartbeatRequest__Output, HeartbeatReply>(async (req) => this.heartbeat(req)),
      ReportStep: unary<StepReport__Output, Ack>(async (req) => this.report(req)),
      Leave: unary<LeaveRequest__Output, Ack>(async (req) => this.leave(req)),
      GetStatus: unary<object, RunStatus>(async () => this.status()),
      Shutdown: unary<ShutdownRequest__Output, Ack>(async (req) => {
        this.requestStop(req.reason || 'shutdown requested');
        return {};
      }),
    });
  }

  private get state(): RunState {
    return this.run.state;
  }

  private get reason(): string {
    return this.run.reason;
  }

  get heartbeatMs(): number {
    return this.opts.config.heartbeatMs;
  }

  /** Elastic runs re-form on a lost worker; static runs (the default) fail fast, like torchrun without restarts. */
  get elastic(): boolean {
    const { minWorkers, workers, maxRestarts } = this.opts.config;
    return (minWorkers > 0 && minWorkers < workers) || maxRestarts > 0;
  }

  private get minCount(): number {
    return this.opts.config.minWorkers || this.opts.config.workers;
  }

  private get joinTimeoutMs(): number {
    return this.opts.joinTimeoutMs ?? 300_000;
  }

  async start(): Promise<string> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.opts.listen, this.creds.grpcServerCredentials(), (err, p) => (err ? reject(new Error(`coordinator cannot listen on ${this.opts.listen}: ${err.message}`)) : resolve(p))),
    );
    const host = this.opts.listen.slice(0, this.opts.listen.lastIndexOf(':'));
    this.address = `${host}:${port}`;
    this.monitor = setInterval(() => this.checkHealth(), Math.max(100, this.heartbeatMs / 2));
    this.joinTimer = setTimeout(() => {
      if (this.state === 'waiting') this.fail(`only ${this.pending.length} of ${this.opts.config.workers} workers joined within ${this.joinTimeoutMs} ms`);
    }, this.joinTimeoutMs);
    this.opts.logger.info({ address: this.address, workers: this.opts.config.workers, minWorkers: this.minCount, elastic: this.elastic, jobId: this.jobId, security: this.creds.describe() }, 'coordinator listening');
    return this.address;
  }

  /** Orderly stop: rank 0 hears it on its next heartbeat, every rank stops after the same step. */
  requestStop(reason: string): void {
    const from = this.state;
    if (!this.run.can('stop-requested')) return;
    if (from === 'training' || from === 'reforming') this.opts.logger.info({ reason }, 'stopping: workers finish the current step and checkpoint');
    const why = from === 'waiting' ? `stopped before training started: ${reason}` : from === 'reforming' ? `stopped while re-forming: ${reason}` : reason;
    if (this.run.fire('stop-requested', why) === 'failed') this.afterFailure();
  }

  async close(): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.joinTimer) clearTimeout(this.joinTimer);
    for (const p of this.pending.splice(0)) p.reply({ code: grpc.status.UNAVAILABLE, details: 'coordinator is shutting down' } as grpc.ServiceError);
    // A hung (SIGSTOPped) worker can hold a call open forever: graceful for 2 s, then force.
    await Promise.race([new Promise<void>((r) => this.server.tryShutdown(() => r())), new Promise((r) => setTimeout(r, 2000))]);
    this.server.forceShutdown();
  }

  private join = (call: grpc.ServerUnaryCall<JoinRequest__Output, JoinReply>, callback: grpc.sendUnaryData<JoinReply>): void => {
    const req = call.request;
    const refuse = (code: grpc.status, details: string) => callback({ code, details });
    const limited = this.joins.admit(call.getPeer(), this.pending.length, this.opts.config.workers);
    if (limited) return refuse(grpc.status.RESOURCE_EXHAUSTED, limited);
    if (!req.worker_id || !req.advertise_address) return refuse(grpc.status.INVALID_ARGUMENT, 'Join needs worker_id and advertise_address');
    const badData = dataEndpointError(req.data);
    if (badData) return refuse(grpc.status.INVALID_ARGUMENT, `Join needs the worker's data endpoint: ${badData}`);
    if (req.config_fingerprint !== this.fp) {
      let detail = 'config fingerprint differs';
      try {
        const theirs = validateConfig(JSON.parse(req.config_json));
        const fields = diffConfigs(this.opts.config, theirs);
        // Values only to a caller that proved it holds the run secret: they can include paths.
        const show = (f: (typeof fields)[number]) =>
          this.creds.authenticated ? `: coordinator ${JSON.stringify(this.opts.config[f])}, worker ${JSON.stringify(theirs[f])}` : '';
        if (fields.length) detail = fields.map((f) => `config field '${f}' differs${show(f)}`).join('; ');
      } catch (e) {
        detail = `worker sent an unreadable config: ${(e as Error).message}`;
      }
      this.opts.logger.warn({ worker: req.worker_id, address: req.advertise_address, detail }, 'refused a worker');
      return refuse(grpc.status.FAILED_PRECONDITION, `${detail}; start every worker with the coordinator's training flags`);
    }
    // A restarted coordinator knows nobody: it adopts the generation the workers report instead of restarting it.
    const adopting = req.still_training && req.generation > 0 && (this.generation === 0 || this.generation === req.generation);
    if (adopting && this.creds.secret && !this.creds.secret.verify(req.ticket, TICKET_LABEL, req.generation, req.peers.join('\n'))) {
      this.opts.logger.warn({ worker: req.worker_id, generation: req.generation }, 'refused a re-registration without a valid generation ticket');
      return refuse(grpc.status.PERMISSION_DENIED, `generation ${req.generation}: no valid ticket for this peer list`);
    }
    // While stopping, a member of the adopted generation may still register (it must, to leave in order).
    const rejoinWhileStopping = this.state === 'stopping' && adopting && this.generation === req.generation;
    if (this.state === 'finished' || this.state === 'failed' || (this.state === 'stopping' && !rejoinWhileStopping)) {
      return refuse(grpc.status.ABORTED, `run ${this.jobId} is ${this.state}${this.reason ? `: ${this.reason}` : ''}`);
    }
    if (adopting) return this.adopt(req, callback);
    const member = this.members.find((m) => m.workerId === req.worker_id && !m.dead && !m.left);
    const committedStep = this.verifiedStep(Number(req.committed_step ?? -1), member);
    if (member && (this.state === 'training' || this.state === 'reforming')) {
      // A member's collective failed (or it finished a step after a reform request): the generation is over.
      if (!this.elastic) {
        this.fail(`worker rank ${member.rank} (${member.address}) lost its group at step ${committedStep}: a collective op failed`);
        return refuse(grpc.status.ABORTED, this.reason);
      }
      this.beginReform('reform-requested', `rank ${member.rank} asked to re-form`);
      this.addPending(call, callback, committedStep, member.rank);
      this.tryReform();
      return;
    }
    if (this.state === 'waiting') {
      this.addPending(call, callback, committedStep, Infinity);
      this.opts.logger.info({ worker: req.worker_id, address: req.advertise_address, joined: this.pending.length, of: this.opts.config.workers }, 'worker joined');
      this.board.event('joined', `worker joined from ${req.advertise_address} (${this.pending.length} of ${this.opts.config.workers})`);
      const { workers } = this.opts.config;
      if (this.pending.length >= workers) this.formGeneration(this.pending.splice(0, workers));
      else if (this.pending.length >= this.minCount && !this.graceTimer) {
        this.graceTimer = setTimeout(() => {
          this.graceTimer = null;
          if (this.state === 'waiting' && this.pending.length >= this.minCount) this.formGeneration(this.pending.splice(0));
        }, this.opts.joinGraceMs ?? 10_000);
      }
      return;
    }
    // A new worker while training: admitted at the next step boundary (elastic runs only, up to --workers).
    if (!this.elastic) {
      return refuse(grpc.status.FAILED_PRECONDITION, `run ${this.jobId} already started (generation ${this.generation}) and is not elastic; use --min-workers below --workers or --max-restarts to admit workers mid-run`);
    }
    const live = this.members.filter((m) => !m.dead && !m.left).length;
    const newcomers = this.pending.filter((p) => p.prevRank === Infinity).length;
    if (live + newcomers >= this.opts.config.workers && this.state === 'training') {
      return refuse(grpc.status.RESOURCE_EXHAUSTED, `run ${this.jobId} already has ${live} of ${this.opts.config.workers} workers`);
    }
    this.addPending(call, callback, committedStep, Infinity);
    this.opts.logger.info({ worker: req.worker_id, address: req.advertise_address }, 'new worker waits for the next step boundary');
    this.board.event('joined', `worker joined from ${req.advertise_address}: admitted at the next step boundary`);
    if (this.state === 'training') this.reformWanted = true;
    else this.tryReform();
  };

  /**
   * The step a joiner's state counts as, for choosing rank 0: its claim, but never above what the coordinator saw —
   * a member's own reports, or for a newcomer the newest step any member reported (so a newcomer can tie the
   * survivors, who keep precedence by their previous rank, but never outrank them). Before the first generation
   * nobody has reported anything and claims (resumed checkpoints) stand.
   */
  private verifiedStep(claim: number, member: Member | undefined): number {
    if (this.generation === 0) return claim;
    if (member) return Math.min(claim, member.step);
    return Math.min(claim, Math.max(-1, ...this.members.map((m) => m.step)));
  }

  private addPending(call: grpc.ServerUnaryCall<JoinRequest__Output, JoinReply>, reply: grpc.sendUnaryData<JoinReply>, committedStep: number, prevRank: number): void {
    const req = call.request;
    const old = this.pending.findIndex((p) => p.workerId === req.worker_id);
    if (old >= 0) this.pending.splice(old, 1); // a retried Join replaces the stale call
    const entry: PendingJoin = { workerId: req.worker_id, address: req.advertise_address, data: endpointOf(req.data!), committedStep, prevRank, reply, call };
    this.pending.push(entry);
    call.on('cancelled', () => {
      const i = this.pending.indexOf(entry);
      if (i >= 0) this.pending.splice(i, 1);
    });
  }

  private adopt(req: JoinRequest__Output, callback: grpc.sendUnaryData<JoinReply>): void {
    if (this.generation === 0) {
      this.generation = req.generation;
      const t = now();
      // Data endpoints are learnt as members re-register; a restarted coordinator hands them out only when it forms
      // the next generation, from those members' own Joins.
      this.members = req.peers.map((address, rank) => ({
        workerId: '', address, data: { port: 0, path: '', host_id: '' }, rank, lastSeen: t, heard: false, step: 0, left: false, failed: false, dead: false,
      }));
      this.run.fire('adopted');
      if (this.joinTimer) clearTimeout(this.joinTimer);
      this.opts.logger.warn({ generation: this.generation, worldSize: this.members.length }, 'adopted a running generation from its workers (coordinator restart)');
    }
    const m = this.members[req.rank];
    if (!m || m.address !== req.advertise_address) {
      callback({ code: grpc.status.FAILED_PRECONDITION, details: `rank ${req.rank} at ${req.advertise_address} is not part of generation ${this.generation}` });
      return;
    }
    m.workerId = req.worker_id;
    m.data = endpointOf(req.data!);
    m.lastSeen = now();
    m.heard = true;
    m.step = Math.max(m.step, Number(req.committed_step));
    const peers = this.members.map((x) => x.address);
    // No link nonce: the member keeps the generation (and key) it has; only the ticket and ranks matter here.
    callback(null, this.reply(m.rank, peers, this.members.map((x) => x.data), Buffer.alloc(0)));
  }

  /**
   * A Join's answer: the ring, every rank's data endpoint and the generation's link nonce (the data links' keys are
   * derived from it and the run secret). The ticket lets a restarted coordinator check this generation when workers
   * report it.
   */
  private reply(rank: number, peers: string[], data: DataEndpointMessage[], linkNonce: Buffer): JoinReply {
    const ticket = this.creds.secret ? this.creds.secret.mac(TICKET_LABEL, this.generation, peers.join('\n')) : Buffer.alloc(0);
    return { job_id: this.jobId, generation: this.generation, rank, world_size: peers.length, peers, data, link_nonce: linkNonce, heartbeat_ms: this.heartbeatMs, ticket };
  }

  private beginReform(event: Extract<RunEvent, 'reform-requested' | 'member-lost'>, why: string): void {
    if (!this.run.can(event)) return; // already re-forming (or stopping/over): this generation's end is known
    this.run.fire(event);
    this.reformDeadline = now() + this.joinTimeoutMs;
    this.opts.logger.warn({ generation: this.generation, why }, 'generation over: re-forming');
    this.board.event('reforming', `generation ${this.generation} over, re-forming: ${why}`);
  }

  /** Forms the next generation once every live member of the old one has re-joined and there are enough. */
  private tryReform(): void {
    if (this.state !== 'reforming') return;
    const waiting = this.members.filter((m) => !m.dead && !m.left && !this.pending.some((p) => p.workerId === m.workerId));
    if (waiting.length > 0) return; // survivors still finishing their failed op (bounded by the collective deadline)
    const candidates = this.pending.slice(0, this.opts.config.workers);
    if (candidates.length >= this.minCount) {
      this.pending.splice(0, candidates.length);
      this.formGeneration(candidates);
    } else if (now() > this.reformDeadline) {
      this.fail(`only ${candidates.length} worker(s) left, below --min-workers ${this.minCount}; waited ${this.joinTimeoutMs} ms for more`);
    }
  }

  private formGeneration(joined: PendingJoin[]): void {
    this.run.fire('generation-formed'); // first, so that a caller in the wrong state throws before anything changed
    // The newest commit becomes rank 0 (it broadcasts its state); survivors keep their relative order; joiners last.
    joined.sort((a, b) => b.committedStep - a.committedStep || a.prevRank - b.prevRank);
    this.generation += 1;
    const t = now();
    this.members = joined.map((p, rank) => ({ workerId: p.workerId, address: p.address, data: p.data, rank, lastSeen: t, heard: false, step: Math.max(0, p.committedStep), left: false, failed: false, dead: false }));
    this.reformWanted = false;
    this.lastReport.clear();
    const peers = joined.map((p) => p.address);
    const data = joined.map((p) => p.data);
    const linkNonce = randomBytes(16);
    for (const [rank, p] of joined.entries()) p.reply(null, this.reply(rank, peers, data, linkNonce));
    const step = Math.max(0, joined[0]?.committedStep ?? 0);
    this.history.push({ generation: this.generation, worldSize: joined.length, step, at: Date.now() });
    this.opts.logger.info({ generation: this.generation, worldSize: joined.length, step, peers }, this.generation === 1 ? 'generation formed: training starts' : 'generation formed: training continues');
    if (this.generation > 1) this.board.restarts += 1;
    this.board.bytesReduced.clear();
    this.board.event('generation', `generation ${this.generation} formed: ${joined.length} worker(s) from step ${step}`);
  }

  private member(workerId: string): Member {
    // '' is the id of an adopted member that has not re-registered: nobody may speak for it.
    if (!workerId) throw new StatusError(grpc.status.INVALID_ARGUMENT, 'worker_id is empty');
    const m = this.members.find((x) => x.workerId === workerId);
    if (!m) throw new StatusError(grpc.status.NOT_FOUND, `worker ${workerId} is not a member of run ${this.jobId}; join first`);
    return m;
  }

  private heartbeat(req: HeartbeatRequest__Output): HeartbeatReply {
    if (!req.worker_id) throw new StatusError(grpc.status.INVALID_ARGUMENT, 'worker_id is empty');
    const p = this.pending.find((x) => x.workerId === req.worker_id);
    const m = this.members.find((x) => x.workerId === req.worker_id);
    if (!m && !p) throw new StatusError(grpc.status.NOT_FOUND, `worker ${req.worker_id} is not a member of run ${this.jobId}; join first`);
    if (m) {
      m.lastSeen = now();
      m.heard = true;
      if (req.generation === this.generation) m.step = Math.max(m.step, Number(req.step));
    }
    if (this.state === 'failed') return { stop: true, failed: true, reason: this.reason };
    if (this.state === 'stopping') return { stop: true, failed: false, reason: this.reason };
    return { stop: false, failed: false, reason: '', reform: this.reformWanted };
  }

  private report(req: StepReport__Output): Ack {
    const m = this.member(req.worker_id);
    m.lastSeen = now();
    m.heard = true;
    if (req.generation === this.generation) m.step = Math.max(m.step, Number(req.step));
    this.lastReport.set(m.rank, req);
    if (req.generation === this.generation) this.board.report(m.rank, Number(req.step), req.d_loss, req.g_loss, Number(req.allreduce_bytes ?? 0));
    return {};
  }

  private leave(req: LeaveRequest__Output): Ack {
    const m = this.member(req.worker_id);
    m.left = true;
    m.failed = !!req.failed;
    if (req.failed) this.fail(`worker rank ${m.rank} (${m.address}) failed at step ${req.step}: ${req.reason}`);
    else if (this.state === 'training' && Number(req.step) < this.opts.config.steps) {
      this.fail(`worker rank ${m.rank} (${m.address}) left at step ${req.step} before the run ended`);
    }
    this.opts.logger.info({ rank: m.rank, failed: m.failed, reason: req.reason }, 'worker left');
    if (m.failed) this.board.event('lost', `rank ${m.rank} (${m.address}) failed at step ${req.step}: ${req.reason}`, m.rank);
    else this.board.event('left', `rank ${m.rank} (${m.address}) left at step ${req.step}: ${req.reason || 'finished'}`, m.rank);
    this.maybeDone();
    return {};
  }

  /** Fails the run unless it is already over (the first failure's reason is the one reported). */
  private fail(reason: string): void {
    if (!this.run.can('failed')) return;
    this.run.fire('failed', reason);
    this.afterFailure();
  }

  /** After any move into `failed`: nobody waits on a run that is over. */
  private afterFailure(): void {
    const reason = this.reason;
    this.opts.logger.error({ reason }, 'run failed');
    this.board.event('failed', `run failed: ${reason}`);
    for (const p of this.pending.splice(0)) p.reply({ code: grpc.status.ABORTED, details: reason });
    if (this.members.length === 0) this.finish({ failed: true, reason });
    this.maybeDone();
  }

  private checkHealth(): void {
    if (this.state === 'waiting' || this.state === 'finished') return;
    const t = now();
    // Three missed heartbeats: the worker is dead or stopped (a SIGSTOPped process looks exactly like this).
    const limit = 3 * this.heartbeatMs + 1000;
    for (const m of this.members) {
      if (m.left || m.dead) continue;
      // A member of an adopted generation that has not re-registered yet is reconnecting to this (restarted)
      // coordinator, which takes a few seconds on a loaded machine: it gets ADOPT_GRACE_MS. A dead one is still
      // caught sooner by its peers' collective deadline, which makes them re-form without it.
      const grace = m.workerId === '' ? ADOPT_GRACE_MS : m.heard ? 0 : (this.opts.firstBeatGraceMs ?? FIRST_BEAT_GRACE_MS);
      if (t - m.lastSeen > Math.max(limit, grace)) {
        m.dead = true;
        m.left = true;
        const why = `worker rank ${m.rank} (${m.address}) missed heartbeats for ${Math.round(t - m.lastSeen)} ms`;
        this.board.event('lost', `rank ${m.rank} lost: ${why}`, m.rank);
        if (this.elastic && (this.state === 'training' || this.state === 'reforming')) {
          this.opts.logger.warn({ rank: m.rank, address: m.address }, why);
          this.beginReform('member-lost', why);
        } else {
          m.failed = true;
          this.fail(why);
        }
      }
    }
    this.tryReform();
    this.maybeDone();
  }

  private maybeDone(): void {
    if (!this.members.length || !this.members.every((m) => m.left)) return;
    if (this.state === 'reforming' || this.pending.length > 0) return;
    this.run.fire('all-left', this.reason || 'all workers finished'); // a failed run stays failed
    if (this.state === 'finished') this.board.event('finished', `run finished: ${this.reason}`);
    this.finish({ failed: this.state === 'failed', reason: this.reason });
  }

  /** The current generation's members, for the dashboard (bounded by --workers). */
  membersView(): MemberView[] {
    const t = now();
    return this.members.map((m) => ({
      rank: m.rank, address: m.address, step: m.step, lastSeenMs: Math.round(t - m.lastSeen),
      health: m.dead ? 'dead' : m.failed ? 'failed' : m.left ? 'left' : t - m.lastSeen > 2 * this.heartbeatMs + 500 ? 'silent' : 'ok',
    }));
  }

  /** The newest step report of every rank of the current generation. */
  reports(): (StepReport__Output & { rank: number })[] {
    return [...this.lastReport.entries()].map(([rank, r]) => ({ ...r, rank }));
  }

  get workersWanted(): number {
    return this.opts.config.workers;
  }

  get runFolder(): string | null {
    return this.opts.config.out;
  }

  status(): RunStatus {
    const reports = [...this.lastReport.values()];
    const mean = (k: 'd_loss' | 'g_loss' | 'step_ms' | 'allreduce_ms' | 'data_wait_ms') => (reports.length ? reports.reduce((a, r) => a + Number(r[k] ?? 0), 0) / reports.length : 0);
    const live = this.members.filter((m) => !m.left);
    const steps = (live.length ? live : this.members).map((m) => m.step);
    return {
      job_id: this.jobId, state: this.state, generation: this.generation, world_size: live.length,
      joined: this.state === 'waiting' ? this.pending.length : live.length,
      step: steps.length ? Math.min(...steps) : 0,
      total_steps: this.opts.config.steps, d_loss: mean('d_loss'), g_loss: mean('g_loss'), step_ms: mean('step_ms'),
      allreduce_ms: mean('allreduce_ms'), data_wait_ms: mean('data_wait_ms'), reason: this.reason,
    };
  }
}

/** Why a Join's data endpoint is unusable, or '' (a successor must be able to connect to it). */
function dataEndpointError(d: JoinRequest__Output['data']): string {
  if (!d) return 'missing';
  if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535) return `port ${d.port} is not a port number`;
  if (d.path.length > 108 || d.host_id.length > 512) return 'socket path or host id too long';
  return '';
}

const endpointOf = (d: NonNullable<JoinRequest__Output['data']>): DataEndpointMessage => ({ port: d.port, path: d.path, host_id: d.host_id });
