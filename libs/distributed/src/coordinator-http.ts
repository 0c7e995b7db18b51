/**
 * The coordinator's HTTP side (`--http HOST:PORT`): Prometheus metrics at `/metrics` (prom-client, a registry of
 * this coordinator's own), a self-contained live dashboard at `/` (dashboard-page.ts) fed by Server-Sent Events at
 * `/events` (one JSON snapshot a second; `/api/status` is the same snapshot once), and the run folder's newest sample
 * grid at `/samples/latest.png` when the coordinator can see the run folder (`gan-train local`).
 *
 * Auth: with a run secret every path needs the run's bearer token (RunSecret.rpcToken, the gRPC token: one
 * credentials path), as `Authorization: Bearer <token>` (Prometheus) or `?token=<token>` (a browser, whose
 * EventSource cannot set headers); without it the answer is 401 and the refusal is logged once per host by the same
 * TokenGate as the gRPC plane. `--insecure` runs serve it open. Every handler does bounded work: GET/HEAD only, no
 * request body is read, at most MAX_SSE_CLIENTS live streams and MAX_CONNECTIONS sockets, snapshots are bounded by
 * RunBoard's limits, and the sample folder is listed at most once a second.
 * Test: node tools/run-tests.mjs libs/distributed coordinator-http
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { sameText, TokenGate, type RunCredentials } from '@gan/auth';
import type { CoordinatorLog, CoordinatorServer } from './coordinator-server';
import { DASHBOARD_HTML } from './dashboard-page';
import { RUN_STATES } from './run-state';

const MAX_SSE_CLIENTS = 16;
const MAX_CONNECTIONS = 64;
const SSE_TICK_MS = 1000;
/** A sample grid larger than this is not served (the DCGAN's 64x64 grids are ~100 KiB). */
const MAX_SAMPLE_BYTES = 32 << 20;
const SAMPLE_RE = /^fake_samples_step_(\d+)\.png$/;

/** `--http` → where to listen: 'HOST:PORT', ':PORT' or 'PORT' (host 127.0.0.1); null for '' / 'off'. */
export function parseHttpAddress(value: unknown): { host: string; port: number } | null {
  if (value === null || value === undefined || value === '' || value === 'off') return null;
  const s = String(value);
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(s.includes(':') ? s : `:${s}`);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new Error(`--http must be HOST:PORT (port 0 = any free port), got '${s}'`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export interface CoordinatorHttpOptions {
  coordinator: CoordinatorServer;
  credentials: RunCredentials;
  logger: CoordinatorLog;
  /** 'HOST:PORT' (see parseHttpAddress) */
  listen: string;
}

/** What /api/status and each /events message carry; `losses` and `events` only past the client's last seq. */
interface Snapshot {
  status: ReturnType<CoordinatorServer['status']> & { workers: number };
  members: ReturnType<CoordinatorServer['membersView']>;
  ranks: { rank: number; step: number; step_ms: number; compute_ms: number; allreduce_ms: number; data_wait_ms: number; d_loss: number; g_loss: number }[];
  counters: { failures: number; restarts: number; joins: number };
  losses: CoordinatorServer['board']['losses'];
  events: CoordinatorServer['board']['events'];
  sample_step: number | null;
}

export class CoordinatorHttp {
  readonly registry = new Registry();
  private readonly server: http.Server;
  private readonly token: string | undefined;
  private readonly gate: TokenGate | undefined;
  private readonly streams = new Set<{ res: http.ServerResponse; loss: number; event: number }>();
  private tick: NodeJS.Timeout | null = null;
  private sampleCache = { at: 0, file: null as string | null, step: null as number | null };
  /** the dashboard's address (without the token) once listening */
  url = '';

  constructor(private readonly opts: CoordinatorHttpOptions) {
    const secret = opts.credentials.secret;
    this.token = secret?.rpcToken;
    this.gate = this.token ? new TokenGate(this.token, opts.logger, 'coordinator http') : undefined;
    this.defineMetrics();
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 15_000;
  }

  /** The URL with the token a browser needs (`?token=`), or the plain URL for an unauthenticated run. */
  get browserUrl(): string {
    return this.token ? `${this.url}?token=${encodeURIComponent(this.token)}` : this.url;
  }

  async start(): Promise<string> {
    const where = parseHttpAddress(this.opts.listen);
    if (!where) throw new Error('--http is off');
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (e) => reject(new Error(`coordinator http cannot listen on ${this.opts.listen}: ${e.message}`)));
      this.server.listen(where.port, where.host, () => resolve());
    });
    const { port } = this.server.address() as import('node:net').AddressInfo;
    const host = where.host.includes(':') ? `[${where.host}]` : where.host;
    this.url = `http://${host}:${port}/`;
    this.tick = setInterval(() => this.pushAll(), SSE_TICK_MS);
    this.tick.unref();
    this.opts.logger.info({ url: this.url, auth: this.token ? 'run token (Authorization: Bearer, or ?token=)' : 'none (--insecure)' }, `dashboard ${this.url}`);
    return this.url;
  }

  async close(): Promise<void> {
    if (this.tick) clearInterval(this.tick);
    for (const s of this.streams) s.res.end();
    this.streams.clear();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  private authorized(req: http.IncomingMessage, url: URL): boolean {
    if (!this.token) return true;
    const h = req.headers.authorization;
    if (typeof h === 'string' && h.startsWith('Bearer ') && sameText(h.slice(7), this.token)) return true;
    const q = url.searchParams.get('token');
    return q !== null && sameText(q, this.token);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return this.send(res, 400, 'text/plain', 'bad request\n');
    }
    if (!this.authorized(req, url)) {
      this.gate?.note(req.socket.remoteAddress ?? '?', url.pathname);
      res.setHeader('WWW-Authenticate', 'Bearer realm="gan-train"');
      return this.send(res, 401, 'text/plain', 'missing or wrong run token\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return this.send(res, 405, 'text/plain', 'method not allowed\n');
    }
    switch (url.pathname) {
      case '/':
      case '/index.html':
        res.setHeader('Content-Security-Policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'");
        return this.send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, req.method === 'HEAD');
      case '/metrics':
        this.registry.metrics().then(
          (text) => this.send(res, 200, this.registry.contentType, text, req.method === 'HEAD'),
          (e: Error) => this.send(res, 500, 'text/plain', `metrics failed: ${e.message}\n`),
        );
        return;
      case '/api/status':
        return this.send(res, 200, 'application/json', JSON.stringify(this.snapshot(0, 0)), req.method === 'HEAD');
      case '/events':
        return this.openStream(req, res);
      case '/samples/latest.png':
        return this.sendSample(res, req.method === 'HEAD');
      default:
        return this.send(res, 404, 'text/plain', 'not found\n');
    }
  }

  private send(res: http.ServerResponse, code: number, type: string, body: string | Buffer, headOnly = false): void {
    res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(headOnly ? undefined : body);
  }

  private openStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.streams.size >= MAX_SSE_CLIENTS) {
      res.setHeader('Retry-After', '5');
      return this.send(res, 503, 'text/plain', `at most ${MAX_SSE_CLIENTS} live dashboards\n`);
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    const s = { res, loss: 0, event: 0 };
    this.streams.add(s);
    req.on('close', () => this.streams.delete(s));
    this.push(s);
  }

  private pushAll(): void {
    for (const s of this.streams) this.push(s);
  }

  private push(s: { res: http.ServerResponse; loss: number; event: number }): void {
    const snap = this.snapshot(s.loss, s.event);
    s.loss = snap.losses.at(-1)?.seq ?? s.loss;
    s.event = snap.events.at(-1)?.seq ?? s.event;
    s.res.write(`data: ${JSON.stringify(snap)}\n\n`);
  }

  private snapshot(lossSeq: number, eventSeq: number): Snapshot {
    const c = this.opts.coordinator;
    const b = c.board;
    return {
      status: { ...c.status(), workers: c.workersWanted },
      members: c.membersView(),
      ranks: c.reports().map((r) => ({
        rank: r.rank, step: Number(r.step), step_ms: r.step_ms, compute_ms: r.compute_ms, allreduce_ms: r.allreduce_ms,
        data_wait_ms: r.data_wait_ms, d_loss: r.d_loss, g_loss: r.g_loss,
      })).sort((x, y) => x.rank - y.rank),
      counters: { failures: b.failures, restarts: b.restarts, joins: b.joins },
      losses: b.lossesAfter(lossSeq),
      events: b.eventsAfter(eventSeq),
      sample_step: this.latestSample().step,
    };
  }

  /** The newest fake_samples_step_*.png of the run folder; listed at most once a second. */
  private latestSample(): { file: string | null; step: number | null } {
    const dir = this.opts.coordinator.runFolder;
    const t = Date.now();
    if (!dir || t - this.sampleCache.at < 1000) return this.sampleCache;
    let best: { file: string | null; step: number | null } = { file: null, step: null };
    try {
      for (const name of fs.readdirSync(dir)) {
        const m = SAMPLE_RE.exec(name);
        if (m && (best.step === null || Number(m[1]) > best.step)) best = { file: path.join(dir, name), step: Number(m[1]) };
      }
    } catch {
      /* no run folder on this machine (yet): no image */
    }
    this.sampleCache = { at: t, ...best };
    return best;
  }

  private sendSample(res: http.ServerResponse, headOnly: boolean): void {
    const { file } = this.latestSample();
    if (!file) return this.send(res, 404, 'text/plain', 'no sample grid yet\n');
    fs.promises.stat(file).then(async (st) => {
      if (st.size > MAX_SAMPLE_BYTES) return this.send(res, 404, 'text/plain', 'sample grid too large\n');
      this.send(res, 200, 'image/png', await fs.promises.readFile(file), headOnly);
    }).catch(() => this.send(res, 404, 'text/plain', 'no sample grid yet\n'));
  }

  private defineMetrics(): void {
    const c = this.opts.coordinator;
    const registers = [this.registry];
    const perRank = (name: string, help: string, pick: (r: ReturnType<CoordinatorServer['reports']>[number]) => number) =>
      new Gauge({
        name, help, labelNames: ['rank'], registers,
        collect() {
          this.reset();
          for (const r of c.reports()) this.set({ rank: String(r.rank) }, pick(r));
        },
      });
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({ name, help, registers, collect() { this.set(value()); } });
    const counter = (name: string, help: string, value: () => number) =>
      new Counter({
        name, help, registers,
        collect() {
          this.reset();
          this.inc(value());
        },
      });

    new Gauge({
      name: 'gan_rank_step', help: 'last step each rank of the current generation reported (or its heartbeat carried)', labelNames: ['rank'], registers,
      collect() {
        this.reset();
        for (const m of c.membersView()) if (m.health !== 'dead' && m.health !== 'left') this.set({ rank: String(m.rank) }, m.step);
      },
    });
    new Gauge({
      name: 'gan_rank_up', help: '1 while a member of the current generation is alive and heard from, else 0', labelNames: ['rank', 'address'], registers,
      collect() {
        this.reset();
        for (const m of c.membersView()) this.set({ rank: String(m.rank), address: m.address }, m.health === 'ok' ? 1 : 0);
      },
    });
    perRank('gan_rank_step_seconds', 'wall time of the rank\'s last step', (r) => r.step_ms / 1000);
    perRank('gan_rank_compute_seconds', 'forward/backward time of the rank\'s last step', (r) => r.compute_ms / 1000);
    perRank('gan_rank_allreduce_seconds', 'time inside collectives in the rank\'s last step (waiting for peers included)', (r) => r.allreduce_ms / 1000);
    perRank('gan_rank_data_wait_seconds', 'time the rank\'s last step waited for its batch', (r) => r.data_wait_ms / 1000);
    perRank('gan_rank_d_loss', 'discriminator loss of the rank\'s last step (its local batch)', (r) => r.d_loss);
    perRank('gan_rank_g_loss', 'generator loss of the rank\'s last step (its local batch)', (r) => r.g_loss);
    new Counter({
      name: 'gan_rank_allreduce_bytes_total', help: 'gradient payload bytes the rank all-reduced in the current generation (fp32 size, before --wire encoding)',
      labelNames: ['rank'], registers,
      collect() {
        this.reset();
        for (const [rank, bytes] of c.board.bytesReduced) this.inc({ rank: String(rank) }, bytes);
      },
    });
    gauge('gan_step', 'the run\'s step: the slowest live rank\'s last step', () => Number(c.status().step));
    gauge('gan_total_steps', 'steps the run trains for (--steps)', () => Number(c.status().total_steps));
    gauge('gan_generation', 'current generation (1 = the first group; +1 per re-formation)', () => c.status().generation ?? 0);
    gauge('gan_membership_size', 'live members of the current generation', () => c.status().world_size ?? 0);
    gauge('gan_workers_wanted', 'workers the run asks for (--workers)', () => c.workersWanted);
    new Gauge({
      name: 'gan_run_state', help: 'the run\'s state: 1 for the current one, 0 for the others', labelNames: ['state'], registers,
      collect() {
        const now = c.status().state;
        for (const s of RUN_STATES) this.set({ state: s }, s === now ? 1 : 0);
      },
    });
    counter('gan_worker_failures_total', 'ranks lost: missed heartbeats, or a failed or early Leave', () => c.board.failures);
    counter('gan_restarts_total', 'generations formed after the first (the group re-formed without a lost rank or with a new worker)', () => c.board.restarts);
    counter('gan_worker_joins_total', 'workers that joined the run', () => c.board.joins);
  }
}
