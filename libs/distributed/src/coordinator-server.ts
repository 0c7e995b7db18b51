/**
 * The coordinator: membership, ranks and ring order, the shard plan (rank r of N reads shard r of the
 * DistributedSampler), health (heartbeats), aggregated step reports and orderly shutdown. It moves no tensor data.
 *
 * Generation life cycle: `waiting` (Join calls are held open) → `training` once `workers` have joined (or
 * `minWorkers` after a grace period) → `finished` when every worker left cleanly, or `failed` the moment one
 * worker fails, misses heartbeats or leaves early; the others learn it from their next heartbeat reply and exit.
 */
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { diffConfigs, fingerprint, validateConfig, type TrainConfig } from '@gan/config';
import { coordinatorPackage, StatusError, unary } from './rpc';
import { serverCredentials } from './credentials';

export interface CoordinatorLog {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

interface Member {
  workerId: string;
  address: string;
  rank: number;
  lastSeen: number;
  step: number;
  left: boolean;
  failed: boolean;
}

interface PendingJoin {
  workerId: string;
  address: string;
  reply: (err: grpc.ServiceError | null, res?: object) => void;
  call: grpc.ServerUnaryCall<any, any>;
}

export type RunState = 'waiting' | 'training' | 'stopping' | 'finished' | 'failed';

export interface CoordinatorOptions {
  config: TrainConfig;
  logger: CoordinatorLog;
  listen: string;
  /** Grace period after `minWorkers` have joined before training starts without the rest. */
  joinGraceMs?: number;
  /** Give up when the generation is not full after this long. */
  joinTimeoutMs?: number;
}

export class CoordinatorServer {
  readonly jobId = randomUUID();
  private readonly server = new grpc.Server({ 'grpc.max_receive_message_length': 16 << 20 });
  private readonly fp: string;
  private state: RunState = 'waiting';
  private reason = '';
  private generation = 0;
  private readonly pending: PendingJoin[] = [];
  private members: Member[] = [];
  private lastReport = new Map<number, Record<string, number>>();
  private monitor: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;
  private joinTimer: NodeJS.Timeout | null = null;
  private finish!: (r: { failed: boolean; reason: string }) => void;
  /** Resolves when the run is over and every worker has left or been declared dead. */
  readonly done = new Promise<{ failed: boolean; reason: string }>((r) => (this.finish = r));
  address = '';

  constructor(private readonly opts: CoordinatorOptions) {
    this.fp = fingerprint(opts.config);
    const svc = coordinatorPackage().Coordinator.service;
    this.server.addService(svc, {
      Join: this.join,
      Heartbeat: unary(async (req: any) => this.heartbeat(req)),
      ReportStep: unary(async (req: any) => this.report(req)),
      Leave: unary(async (req: any) => this.leave(req)),
      GetStatus: unary(async () => this.status()),
      Shutdown: unary(async (req: any) => {
        this.requestStop(req.reason || 'shutdown requested');
        return {};
      }),
    });
  }

  get heartbeatMs(): number {
    return this.opts.config.heartbeatMs;
  }

  async start(): Promise<string> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.opts.listen, serverCredentials(), (err, p) => (err ? reject(new Error(`coordinator cannot listen on ${this.opts.listen}: ${err.message}`)) : resolve(p))),
    );
    const host = this.opts.listen.slice(0, this.opts.listen.lastIndexOf(':'));
    this.address = `${host}:${port}`;
    this.monitor = setInterval(() => this.checkHealth(), Math.max(100, this.heartbeatMs / 2));
    this.joinTimer = setTimeout(() => {
      if (this.state === 'waiting') this.fail(`only ${this.pending.length} of ${this.opts.config.workers} workers joined within ${this.opts.joinTimeoutMs ?? 300_000} ms`);
    }, this.opts.joinTimeoutMs ?? 300_000);
    this.opts.logger.info({ address: this.address, workers: this.opts.config.workers, jobId: this.jobId }, 'coordinator listening');
    return this.address;
  }

  /** Orderly stop: rank 0 hears it on its next heartbeat, every rank stops after the same step. */
  requestStop(reason: string): void {
    if (this.state === 'training') {
      this.state = 'stopping';
      this.reason = reason;
      this.opts.logger.info({ reason }, 'stopping: workers finish the current step and checkpoint');
    } else if (this.state === 'waiting') {
      this.fail(`stopped before training started: ${reason}`);
    }
  }

  async close(): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.joinTimer) clearTimeout(this.joinTimer);
    for (const p of this.pending.splice(0)) p.reply({ code: grpc.status.UNAVAILABLE, details: 'coordinator is shutting down' } as grpc.ServiceError);
    await new Promise<void>((r) => this.server.tryShutdown(() => r()));
  }

  private join = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>): void => {
    const req = call.request;
    const refuse = (code: grpc.status, details: string) => callback({ code, details } as grpc.ServiceError);
    if (!req.worker_id || !req.advertise_address) return refuse(grpc.status.INVALID_ARGUMENT, 'Join needs worker_id and advertise_address');
    if (req.config_fingerprint !== this.fp) {
      let detail = 'config fingerprint differs';
      try {
        const theirs = validateConfig(JSON.parse(req.config_json));
        const fields = diffConfigs(this.opts.config, theirs);
        if (fields.length) {
          detail = fields.map((f) => `config field '${f}' differs: coordinator ${JSON.stringify(this.opts.config[f])}, worker ${JSON.stringify(theirs[f])}`).join('; ');
        }
      } catch (e) {
        detail = `worker sent an unreadable config: ${(e as Error).message}`;
      }
      this.opts.logger.warn({ worker: req.worker_id, address: req.advertise_address, detail }, 'refused a worker');
      return refuse(grpc.status.FAILED_PRECONDITION, `${detail}; start every worker with the coordinator's training flags`);
    }
    if (this.state !== 'waiting') {
      return refuse(grpc.status.FAILED_PRECONDITION, `run ${this.jobId} is already ${this.state} (generation ${this.generation}); this coordinator admits workers only before training starts`);
    }
    if (this.pending.some((p) => p.workerId === req.worker_id)) {
      // A retried Join after the client's deadline: replace the stale call.
      const i = this.pending.findIndex((p) => p.workerId === req.worker_id);
      this.pending.splice(i, 1);
    }
    const entry: PendingJoin = { workerId: req.worker_id, address: req.advertise_address, reply: callback, call };
    this.pending.push(entry);
    call.on('cancelled', () => {
      const i = this.pending.indexOf(entry);
      if (i >= 0) this.pending.splice(i, 1);
    });
    this.opts.logger.info({ worker: req.worker_id, address: req.advertise_address, joined: this.pending.length, of: this.opts.config.workers }, 'worker joined');
    const { workers, minWorkers } = this.opts.config;
    if (this.pending.length >= workers) this.formGeneration();
    else if (minWorkers > 0 && this.pending.length >= minWorkers && !this.graceTimer) {
      this.graceTimer = setTimeout(() => {
        this.graceTimer = null;
        if (this.state === 'waiting' && this.pending.length >= minWorkers) this.formGeneration();
      }, this.opts.joinGraceMs ?? 10_000);
    }
  };

  private formGeneration(): void {
    this.generation += 1;
    const joined = this.pending.splice(0, this.opts.config.workers);
    const now = Date.now();
    this.members = joined.map((p, rank) => ({ workerId: p.workerId, address: p.address, rank, lastSeen: now, step: 0, left: false, failed: false }));
    this.state = 'training';
    const peers = joined.map((p) => p.address);
    for (const [rank, p] of joined.entries()) {
      p.reply(null, {
        job_id: this.jobId, generation: this.generation, rank, world_size: joined.length, peers,
        config_json: JSON.stringify(this.opts.config), heartbeat_ms: this.heartbeatMs,
      });
    }
    this.opts.logger.info({ generation: this.generation, worldSize: joined.length, peers }, 'generation formed: training starts');
  }

  private member(workerId: string): Member {
    const m = this.members.find((x) => x.workerId === workerId);
    if (!m) throw new StatusError(grpc.status.NOT_FOUND, `worker ${workerId} is not a member of run ${this.jobId}; join first`);
    return m;
  }

  private heartbeat(req: any): object {
    const m = this.member(req.worker_id);
    if (req.generation !== this.generation) throw new StatusError(grpc.status.FAILED_PRECONDITION, `generation ${req.generation} is over (now ${this.generation})`);
    m.lastSeen = Date.now();
    m.step = Math.max(m.step, Number(req.step));
    if (this.state === 'failed') return { stop: true, failed: true, reason: this.reason };
    if (this.state === 'stopping') return { stop: true, failed: false, reason: this.reason };
    return { stop: false, failed: false, reason: '' };
  }

  private report(req: any): object {
    const m = this.member(req.worker_id);
    m.lastSeen = Date.now();
    m.step = Math.max(m.step, Number(req.step));
    this.lastReport.set(m.rank, req);
    return {};
  }

  private leave(req: any): object {
    const m = this.member(req.worker_id);
    m.left = true;
    m.failed = !!req.failed;
    if (req.failed) this.fail(`worker rank ${m.rank} (${m.address}) failed at step ${req.step}: ${req.reason}`);
    else if (this.state === 'training' && m.step < this.opts.config.steps) {
      this.fail(`worker rank ${m.rank} (${m.address}) left at step ${m.step} before the run ended`);
    }
    this.opts.logger.info({ rank: m.rank, failed: m.failed, reason: req.reason }, 'worker left');
    this.maybeDone();
    return {};
  }

  private fail(reason: string): void {
    if (this.state === 'failed' || this.state === 'finished') return;
    this.state = 'failed';
    this.reason = reason;
    this.opts.logger.error({ reason }, 'run failed');
    for (const p of this.pending.splice(0)) p.reply({ code: grpc.status.ABORTED, details: reason } as grpc.ServiceError);
    if (this.members.length === 0) this.finish({ failed: true, reason });
  }

  private checkHealth(): void {
    if (this.state === 'waiting' || this.state === 'finished') return;
    const now = Date.now();
    // Three missed heartbeats: the worker is dead or stopped (a SIGSTOPped process looks exactly like this).
    const limit = 3 * this.heartbeatMs + 1000;
    for (const m of this.members) {
      if (m.left || m.failed) continue;
      if (now - m.lastSeen > limit) {
        m.failed = true;
        m.left = true;
        this.fail(`worker rank ${m.rank} (${m.address}) missed heartbeats for ${now - m.lastSeen} ms`);
      }
    }
    this.maybeDone();
  }

  private maybeDone(): void {
    if (!this.members.length || !this.members.every((m) => m.left)) return;
    if (this.state !== 'failed') {
      this.state = 'finished';
      this.reason = this.reason || 'all workers finished';
    }
    this.finish({ failed: this.state === 'failed', reason: this.reason });
  }

  status(): object {
    const reports = [...this.lastReport.values()];
    const mean = (k: string) => (reports.length ? reports.reduce((a, r) => a + Number(r[k] ?? 0), 0) / reports.length : 0);
    const live = this.members.filter((m) => !m.left);
    return {
      job_id: this.jobId, state: this.state, generation: this.generation, world_size: this.members.length,
      joined: this.state === 'waiting' ? this.pending.length : this.members.length,
      step: (live.length ? live : this.members).reduce((a, m) => Math.min(a, m.step), Number.MAX_SAFE_INTEGER) % Number.MAX_SAFE_INTEGER,
      total_steps: this.opts.config.steps, d_loss: mean('d_loss'), g_loss: mean('g_loss'), step_ms: mean('step_ms'),
      allreduce_ms: mean('allreduce_ms'), data_wait_ms: mean('data_wait_ms'), reason: this.reason,
    };
  }
}
