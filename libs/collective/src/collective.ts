// The Collective: ring all-reduce, broadcast, all-gather and barrier between the ranks of one generation. This is
// the façade that wires the parts together (the way a PyTorch ProcessGroup fronts its backends):
//   ring-engine.ts       one op on one rank, between a predecessor stream and a successor stream (no sockets);
//   tcp-transport.ts     the data link (data-link.ts, data-server.ts) as a transport (transport "tcp", the default):
//                        predecessor-link.ts opens this rank's connection to its predecessor once per generation,
//                        successor-links.ts holds the successor's, and every op's stream is pushed down it;
//   grpc-transport.ts    the gRPC plane: Pull streams (transport "grpc", where only the gRPC port is reachable) and
//                        Probe; successor-pulls.ts admits successors' pulls and holds early ones;
//   stall-inspector.ts   names the ranks that have not joined or do not answer, and times a stalled op out.
// Data flows downstream. Every rank serves both transports, so ranks may differ: a rank on "tcp" connects to its
// predecessor's data endpoint (listed with the group, from the coordinator's JoinReply) with the generation's link
// key; a rank on "grpc" pulls each op from its predecessor's gRPC port.
//
// Life of an op on rank r: take the next seq, take the stream from the predecessor (the op's OPEN on the
// generation's connection, or a Pull), give the op the stream to the successor once there is one, send the first
// chunks; the engine does the rest. Ops run one at a time, in call order.
// Not run directly; tests: node tools/run-tests.mjs libs/collective
import { RunCredentials, type RunSecret } from '@gan/auth';
import type { ProbeReply, ProbeRequest__Output, PullRequest } from '@gan/proto';
import { atName, hostId, type DataServer } from './data-link';
import { CollectiveError, CODE_NAME, peerName, type CollectiveStatus } from './errors';
import { GrpcPlane } from './grpc-transport';
import { noopLogger, type Logger } from './logger';
import { PredecessorLink } from './predecessor-link';
import { RingOp, type GroupSpec as RingGroup, type OpKind } from './ring-engine';
import { makePlan, type RingPlan } from './ring-plan';
import { StallInspector } from './stall-inspector';
import { SuccessorLinks } from './successor-links';
import { SuccessorPulls, type Running, type ServedPull } from './successor-pulls';
import { listenData, receiveOver, type DataEndpoint } from './tcp-transport';
import { assertWire, type WireFormat } from './wire-format';

export type { Logger } from './logger';
export type { DataEndpoint } from './tcp-transport';

/** A generation's group, as the coordinator's JoinReply describes it. */
export interface GroupSpec extends RingGroup {
  /**
   * Every rank's data endpoint (Collective.dataEndpoint), index = rank. Needed by a rank on transport "tcp": it
   * connects to its predecessor's.
   */
  data?: DataEndpoint[];
  /** The generation's nonce (JoinReply.link_nonce): with the run secret it makes the generation's link key. */
  linkNonce?: Uint8Array;
}

const LINK_KEY_LABEL = 'gan-train/link-key/v1';
/** Generations ahead of this rank whose link keys a successor's HELLO may wait for. */
const MAX_KEY_WAITS = 4;

export interface ListenOptions {
  host?: string;
  /** 0 picks a free port */
  port?: number;
  jobId: string;
  logger?: Logger;
  /** an op rejects with DEADLINE_EXCEEDED after this long without progress (default 5000) */
  opTimeoutMs?: number;
  /** the stall inspector logs the ranks that have not joined an op after this long without progress (default 2000) */
  stallWarnMs?: number;
  /** default wire format of allReduce (default fp32) */
  wire?: WireFormat;
  /**
   * The run's credentials (@gan/auth): the token on every gRPC call both ways, the data link's handshake, TLS.
   * Default: none, for in-process tests; `jobId` should then be the secret's (credentials.jobId()).
   */
  credentials?: RunCredentials;
  /** payload bytes per chunk at fp32 (default 1 MiB) */
  chunkBytes?: number;
  /** HTTP/2 receive window of the pulling side, bytes (default 32 MiB) */
  flowControlWindow?: number;
  /** how long a rank whose successor hung up waits for the abort reason to come round the ring (default 300) */
  abortGraceMs?: number;
  /**
   * How this rank receives its predecessor's chunks: 'tcp' (default) over the data link, pushed down one connection
   * per generation, or 'grpc' over a Pull server stream per op. Every rank serves both, so ranks may differ.
   */
  transport?: Transport;
  /** also serve the data channel on an abstract Unix socket for ranks on this machine (Linux; default true) */
  unixSocket?: boolean;
  /** TCP port of the data channel (default 0: any free port; set it where a firewall must open a known port) */
  dataPort?: number;
}

export type Transport = 'tcp' | 'grpc';

export interface AllReduceOptions {
  op: 'sum' | 'mean';
  wire?: WireFormat;
}

const KIND_CODE: Record<OpKind, string> = {
  allReduce: 'ALL_REDUCE', broadcast: 'BROADCAST', allGather: 'ALL_GATHER', barrier: 'BARRIER',
};

/** How long close() lets queued frames and statuses drain before it cuts connections (a stopped peer never reads). */
const CLOSE_GRACE_MS = 1500;

export class Collective {
  readonly jobId: string;
  readonly log: Logger;
  readonly opTimeoutMs: number;
  readonly stallWarnMs: number;
  readonly abortGraceMs: number;
  readonly defaultWire: WireFormat;
  readonly chunkElems: number;
  readonly transport: Transport;
  private readonly creds: RunCredentials;
  private readonly unixSocket: boolean;
  private readonly grpc: GrpcPlane;
  private readonly predecessor: PredecessorLink;
  private readonly successors: SuccessorLinks;
  private readonly inspector: StallInspector;
  private readonly pulls: SuccessorPulls;
  /** the current generation's link key (absent without a run secret) */
  private linkKey?: { generation: number; key: RunSecret };
  /** successors' HELLOs for generations not set here yet wait for their keys */
  private readonly keyWaits = new Map<number, { p: Promise<RunSecret>; resolve(k: RunSecret): void; reject(e: Error): void }>();
  private dataServer?: DataServer;
  private boundAddress = '';
  private group?: GroupSpec;
  private seq = 0;
  private current?: Running;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(o: ListenOptions) {
    if (typeof o.jobId !== 'string' || o.jobId === '') throw new Error('Collective.listen: jobId must be a non-empty string');
    this.jobId = o.jobId;
    this.log = o.logger ?? noopLogger;
    this.opTimeoutMs = positive(o.opTimeoutMs ?? 5000, 'opTimeoutMs');
    this.stallWarnMs = positive(o.stallWarnMs ?? 2000, 'stallWarnMs');
    this.abortGraceMs = positive(o.abortGraceMs ?? 300, 'abortGraceMs');
    this.defaultWire = o.wire ?? 'fp32';
    assertWire(this.defaultWire);
    this.chunkElems = Math.max(1, Math.floor(positive(o.chunkBytes ?? 1 << 20, 'chunkBytes') / 4));
    const flowControlWindow = positive(o.flowControlWindow ?? 32 << 20, 'flowControlWindow');
    if (o.dataPort !== undefined && !(Number.isInteger(o.dataPort) && o.dataPort >= 0 && o.dataPort <= 65535)) {
      throw new Error(`Collective.listen: dataPort must be an integer port number in [0, 65535], got ${o.dataPort}`);
    }
    this.creds = o.credentials ?? RunCredentials.insecure();
    this.transport = o.transport ?? 'tcp';
    this.unixSocket = o.unixSocket ?? true;
    if (this.transport !== 'tcp' && this.transport !== 'grpc') throw new Error(`Collective.listen: transport must be 'tcp' or 'grpc', got ${JSON.stringify(o.transport)}`);

    this.grpc = new GrpcPlane({ credentials: this.creds, flowControlWindow, chunkElems: this.chunkElems });
    const probe = this.grpc.probe.bind(this.grpc);
    this.predecessor = new PredecessorLink({
      jobId: this.jobId, credentials: this.creds, timeoutMs: this.opTimeoutMs, chunkElems: this.chunkElems, unixSocket: this.unixSocket, log: this.log,
    });
    const state = () => ({ closed: this.closed, group: this.group, seq: this.seq, current: this.current });
    this.successors = new SuccessorLinks(this.log, state);
    this.inspector = new StallInspector({ jobId: this.jobId, opTimeoutMs: this.opTimeoutMs, stallWarnMs: this.stallWarnMs, log: this.log, probe });
    this.pulls = new SuccessorPulls(this.jobId, this.log, state);
  }

  /** Start the collective server; the worker advertises `address` before it knows its rank. */
  static async listen(o: ListenOptions): Promise<Collective> {
    const c = new Collective(o);
    const host = o.host ?? '127.0.0.1';
    const onPull = (call: ServedPull) => c.pulls.onPull(call);
    c.boundAddress = await c.grpc.listen(host, o.port ?? 0, c.log, { pull: onPull, probe: (req) => c.onProbe(req) });
    // Served whatever this rank's own transport: a successor on "tcp" connects here.
    try {
      c.dataServer = await listenData({
        host, port: o.dataPort ?? 0, jobId: c.jobId, credentials: c.creds, helloTimeoutMs: c.opTimeoutMs, unixSocket: c.unixSocket, log: c.log,
        keyFor: c.creds.secret ? (generation) => c.keyFor(generation) : undefined,
        onConnection: (conn) => c.successors.offer(conn),
      });
    } catch (e) {
      c.grpc.forceShutdown(); // the gRPC port must not outlive a failed listen
      throw e;
    }
    c.log.info(
      { address: c.boundAddress, dataPort: c.dataServer.port, dataPath: atName(c.dataServer.path), transport: c.transport, security: c.creds.describe() },
      'collective listening',
    );
    return c;
  }

  /** 'host:port' actually bound */
  get address(): string {
    return this.boundAddress;
  }
  /** Where this rank's data server listens: what the coordinator lists for its successor. */
  get dataEndpoint(): DataEndpoint {
    const path = this.dataServer?.path ?? '';
    return { port: this.dataServer?.port ?? 0, path: atName(path), hostId: path ? hostId() : '' };
  }
  get rank(): number {
    return this.group?.rank ?? -1;
  }
  get worldSize(): number {
    return this.group?.worldSize ?? 0;
  }
  get generation(): number {
    return this.group?.generation ?? -1;
  }

  /** Set (or replace, with a higher generation) the group. Ops of older generations are refused from then on. */
  setGroup(g: GroupSpec): void {
    const { rank, worldSize, peers, generation } = g;
    if (!Number.isInteger(worldSize) || worldSize < 1 || worldSize > 64) throw new Error(`setGroup: worldSize must be an integer in 1..64, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`setGroup: rank must be an integer in 0..${worldSize - 1}, got ${rank}`);
    if (!Array.isArray(peers) || peers.length !== worldSize || peers.some((p) => typeof p !== 'string' || !p)) {
      throw new Error(`setGroup: peers must list ${worldSize} addresses (index = rank), got ${JSON.stringify(peers)}`);
    }
    if (!Number.isSafeInteger(generation) || generation < 0) throw new Error(`setGroup: generation must be a non-negative integer, got ${generation}`);
    const { data, linkNonce } = g;
    if (this.transport === 'tcp' && worldSize > 1) {
      if (!Array.isArray(data) || data.length !== worldSize || data.some((d) => !d || !Number.isInteger(d.port) || d.port < 1 || d.port > 65535 || typeof d.path !== 'string' || typeof d.hostId !== 'string')) {
        throw new Error(`setGroup: data must list ${worldSize} data endpoints (index = rank, each a Collective's dataEndpoint), got ${JSON.stringify(data)}`);
      }
    }
    if (linkNonce !== undefined && !(linkNonce instanceof Uint8Array)) throw new Error('setGroup: linkNonce must be bytes');
    if (this.group && generation <= this.group.generation) {
      throw new Error(`setGroup: generation ${generation} is not newer than the current ${this.group.generation}`);
    }
    if (this.closed) throw new Error('setGroup: collective is closed');
    const cur = this.current?.op;
    cur?.fail(new CollectiveError('aborted', `${cur.name} superseded by generation ${generation}`));
    this.group = { rank, worldSize, peers: [...peers], generation, data: data?.map((d) => ({ ...d })) };
    this.seq = 0;
    this.setLinkKey(generation, linkNonce ?? new Uint8Array(0));
    this.pulls.newGeneration(generation);
    this.successors.newGeneration(generation, (rank + 1) % worldSize);
    // A new generation usually follows a failure: it starts on fresh data connections.
    this.predecessor.drop();
    if (this.transport === 'tcp' && worldSize > 1) {
      const p = (rank + worldSize - 1) % worldSize;
      this.predecessor.open({ pred: { rank: p, address: peers[p] }, at: data![p], fromRank: rank, generation, key: this.linkKey?.key });
    }
    this.log.info({ rank, worldSize, generation }, 'collective group set');
  }

  /** In place: buf becomes the element-wise sum (or mean) over all ranks, bit-identical everywhere. */
  allReduce(buf: Float32Array, opts: AllReduceOptions = { op: 'sum' }): Promise<void> {
    checkBuf(buf, 'allReduce');
    if (opts?.op !== 'sum' && opts?.op !== 'mean') throw new Error(`allReduce: op must be 'sum' or 'mean', got ${JSON.stringify(opts?.op)}`);
    const wire = opts.wire ?? this.defaultWire;
    assertWire(wire);
    return this.enqueue('allReduce', (g) => ({
      buf, wire, mean: opts.op === 'mean', plan: makePlan({ mode: 'reduce', n: g.worldSize, rank: g.rank, chunkElems: this.chunkElems, length: buf.length }),
      shape: { length: String(buf.length), wire: wire.toUpperCase() as never, reduce: opts.op === 'mean' ? 'MEAN' : 'SUM' },
    })).then(() => undefined);
  }

  /** In place: every rank's buf becomes root's. */
  broadcast(buf: Float32Array, root: number): Promise<void> {
    checkBuf(buf, 'broadcast');
    return this.enqueue('broadcast', (g) => {
      if (!Number.isInteger(root) || root < 0 || root >= g.worldSize) throw new Error(`broadcast: root must be an integer in 0..${g.worldSize - 1}, got ${root}`);
      return {
        buf, wire: 'fp32', mean: false, plan: makePlan({ mode: 'chain', n: g.worldSize, rank: g.rank, chunkElems: this.chunkElems, length: buf.length, root }),
        shape: { length: String(buf.length), root },
      };
    }).then(() => undefined);
  }

  /** Every rank's buffer (same length on all ranks), index = rank. For small buffers (hashes, losses). */
  async allGather(buf: Float32Array): Promise<Float32Array[]> {
    checkBuf(buf, 'allGather');
    const L = buf.length;
    let out!: Float32Array;
    await this.enqueue('allGather', (g) => {
      out = new Float32Array(L * g.worldSize);
      out.set(buf, g.rank * L);
      return {
        buf: out, wire: 'fp32', mean: false, plan: makePlan({ mode: 'gather', n: g.worldSize, rank: g.rank, chunkElems: this.chunkElems, length: L }),
        shape: { length: String(L) },
      };
    });
    return Array.from({ length: out.length / Math.max(1, L) || this.worldSize }, (_, j) => out.slice(j * L, (j + 1) * L));
  }

  /** Resolves once every rank has entered the barrier. */
  barrier(): Promise<void> {
    return this.enqueue('barrier', (g) => ({
      buf: new Float32Array(0), wire: 'fp32', mean: false, plan: makePlan({ mode: 'gather', n: g.worldSize, rank: g.rank, chunkElems: this.chunkElems, length: 0 }),
      shape: { length: '0' },
    })).then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const cur = this.current?.op;
    cur?.fail(new CollectiveError('cancelled', `${cur.name}: collective closed`));
    this.pulls.refuseAll({ code: 'unavailable', details: 'collective closed' });
    this.successors.closeAll();
    this.predecessor.drop();
    for (const w of this.keyWaits.values()) w.reject(new Error('collective closed'));
    this.keyWaits.clear();
    // Both planes drain before they are cut, within CLOSE_GRACE_MS: an aborted op's status names the rank the failure
    // started at, and a process that exits right after close() must not drop it (its successor would blame it).
    const dataClosed = this.dataServer?.close(CLOSE_GRACE_MS);
    this.grpc.closeClients();
    await dataClosed;
    await this.grpc.shutdown(CLOSE_GRACE_MS);
  }

  // ---- internals ----

  private enqueue(
    kind: OpKind,
    setup: (g: GroupSpec) => { buf: Float32Array; wire: WireFormat; mean: boolean; plan: RingPlan; shape: Partial<PullRequest> },
  ): Promise<void> {
    const run = async () => {
      if (this.closed) throw new CollectiveError('cancelled', `${kind}: collective is closed`);
      const g = this.group;
      if (!g) throw new Error(`${kind}: setGroup() must be called before any collective op`);
      const s = setup(g);
      const seq = ++this.seq;
      const shape: PullRequest = {
        job_id: this.jobId, generation: String(g.generation), seq: String(seq), kind: KIND_CODE[kind] as never,
        from_rank: (g.rank + 1) % g.worldSize, to_rank: g.rank, world_size: g.worldSize, length: '0', wire: 'FP32',
        reduce: 'SUM', root: 0, chunk_elems: this.chunkElems, ...s.shape,
      };
      const op = new RingOp({
        kind, jobId: this.jobId, group: g, seq, buf: s.buf, wire: s.wire, mean: s.mean, plan: s.plan,
        abortGraceMs: this.abortGraceMs, self: this.boundAddress, onFail: (o, st, e) => this.onOpFailed(o, st, e),
      });
      if (g.worldSize === 1) return;
      const running: Running = { op, shape };
      this.current = running;
      const unwatch = this.inspector.watch(op);
      try {
        this.runOp(running);
        await op.done;
      } finally {
        unwatch();
        if (this.current === running) this.current = undefined;
      }
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private runOp(r: Running): void {
    const { op } = r;
    const g = op.group;
    if (op.pullsFromPredecessor) {
      const pred = op.pred;
      const req: PullRequest = { ...r.shape, from_rank: g.rank, to_rank: pred.rank };
      const h = op.fromPredecessor;
      if (this.transport === 'grpc') op.attachIn(this.grpc.pull(pred.address, req, h));
      else {
        this.predecessor.get().then(
          (link) => {
            if (!op.settled) op.attachIn(receiveOver(link, req, h));
          },
          (e: Error) => op.fail(new CollectiveError('unavailable', `${op.name}: cannot open the data connection to predecessor ${peerName(pred)}: ${e.message}`, pred)),
        );
      }
    }
    if (op.sendsToSuccessor) {
      // The successor's stream comes as its data connection or its Pull, whichever transport it is on.
      this.pulls.claim(r);
      this.successors.claim(r);
    }
    op.start();
  }

  private onOpFailed(op: RingOp, s: CollectiveStatus, e: CollectiveError): void {
    this.pulls.rememberAbort(op, s);
    this.log.warn({ op: op.name, code: CODE_NAME[e.code], peer: e.peer }, e.message);
  }

  /** The generation's link key: HMAC(run secret, generation, nonce); a successor's HELLO waiting for it gets it. */
  private setLinkKey(generation: number, nonce: Uint8Array): void {
    const secret = this.creds.secret;
    if (!secret) return;
    const key = secret.derive(LINK_KEY_LABEL, generation, nonce);
    this.linkKey = { generation, key };
    for (const [gen, w] of this.keyWaits) {
      if (gen > generation) continue;
      this.keyWaits.delete(gen);
      if (gen === generation) w.resolve(key);
      else w.reject(new Error(`generation ${gen} is over`));
    }
  }

  /** The link key a successor's HELLO for `generation` must be signed with, once this rank has that generation. */
  private keyFor(generation: number): Promise<RunSecret> {
    const cur = this.linkKey;
    if (cur && generation === cur.generation) return Promise.resolve(cur.key);
    if (this.closed) return Promise.reject(new Error('collective closed'));
    if (cur && generation < cur.generation) return Promise.reject(new Error(`generation ${generation} is over`));
    let w = this.keyWaits.get(generation);
    if (!w) {
      if (this.keyWaits.size >= MAX_KEY_WAITS) return Promise.reject(new Error('too many generations ahead'));
      let resolve!: (k: RunSecret) => void;
      let reject!: (e: Error) => void;
      const p = new Promise<RunSecret>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      p.catch(() => undefined);
      w = { p, resolve, reject };
      this.keyWaits.set(generation, w);
    }
    return w.p;
  }

  private onProbe(req: ProbeRequest__Output): { reply: ProbeReply } | { refused: CollectiveStatus } {
    if (req.job_id !== this.jobId) return { refused: { code: 'precondition', details: 'probe for another job' } };
    const cur = this.current?.op;
    return {
      reply: {
        job_id: this.jobId, generation: String(this.generation), rank: this.rank, seq: String(this.seq),
        in_op: !!cur && !cur.settled, chunks_received: String(cur?.received ?? 0),
      },
    };
  }
}

function positive(v: number, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`Collective.listen: ${name} must be a positive number, got ${v}`);
  return v;
}

function checkBuf(buf: unknown, op: string): asserts buf is Float32Array {
  if (!(buf instanceof Float32Array)) throw new Error(`${op}: buffer must be a Float32Array, got ${Object.prototype.toString.call(buf)}`);
}
