// The Collective: a gRPC server + clients that run ring all-reduce, broadcast, all-gather and barrier between the
// ranks of one generation. Data flows server -> client: each rank PULLS its predecessor's stream for every op
// (grpc-js lets only the client enlarge its HTTP/2 receive window). See ring-plan.ts for the ring geometry.
// The stream is either a gRPC Pull call (transport "grpc") or an op on a TCP data connection (transport "tcp", the
// default, ~4x faster: data-link.ts); both carry the same Chunk messages and statuses, and every rank serves both.
//
// Life of an op on rank r: take the next seq, open Pull(op) to the predecessor, wait for the successor's Pull(op)
// to arrive at our server, send our first chunks, then every received chunk is reduced (or copied) into place and,
// in the same tick, forwarded. The op resolves once all expected chunks are in and all writes have been flushed.
// Failure anywhere ends the op's outgoing stream with the failure's status (the origin rank in trailing metadata),
// so the abort travels round the ring in milliseconds; a stall is caught by an inactivity deadline, and the stall
// inspector probes every peer to name the ranks that have not joined or do not answer.
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { RunCredentials } from '@gan/auth';
import { loadDefinition, type ProbeReply, type ProbeRequest__Output, type PullRequest, type PullRequest__Output } from '@gan/proto';
import { decodeChunk, encodeChunk, payloadSizeError, payloadView, PHASE, WIRE_CODE, type InChunk, type OutChunk } from './chunk-codec';
import { atName, DataLink, DataServer, hostId, type InHandlers, type InStream, type OutStream, type StreamStatus } from './data-link';
import { CollectiveError, peerName, type PeerRef } from './errors';
import {
  checkChunk, chunkRange, expectedReceives, hasPredecessorStream, hasSuccessorStream, makePlan, sendSegment,
  slotCount, type RingPlan,
} from './ring-plan';
import { addInto, divideBy } from './simd-add';
import { assertWire, decode16, decodeAdd16, quantizeInPlace, type WireFormat } from './wire-format';

const { status } = grpc;

/** pino-like logger; every method takes (object, message) or (message). */
export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
}
const noopLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/** Largest request the collective's gRPC server takes (Pull and Probe requests are tens of bytes). */
const MAX_REQUEST_BYTES = 64 * 1024;

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
   * How this rank pulls its predecessor's chunks: 'tcp' (default) over a plain TCP data connection, or 'grpc' over
   * a Pull server stream. Every rank serves both, so ranks may differ; 'tcp' falls back to 'grpc' against a peer
   * without a data port.
   */
  transport?: Transport;
  /** also serve the data channel on an abstract Unix socket for ranks on this machine (Linux; default true) */
  unixSocket?: boolean;
  /** TCP port of the data channel (default 0: any free port; set it where a firewall must open a known port) */
  dataPort?: number;
}

export type Transport = 'tcp' | 'grpc';

export interface GroupSpec {
  rank: number;
  worldSize: number;
  /** address of every rank, index = rank */
  peers: string[];
  generation: number;
}

export interface AllReduceOptions {
  op: 'sum' | 'mean';
  wire?: WireFormat;
}

type OpKindName = 'allReduce' | 'broadcast' | 'allGather' | 'barrier';
const KIND_CODE: Record<OpKindName, string> = {
  allReduce: 'ALL_REDUCE', broadcast: 'BROADCAST', allGather: 'ALL_GATHER', barrier: 'BARRIER',
};

const SERVICE = 'gan.collective.v1.Collective';
let serviceDef: grpc.ServiceDefinition | undefined;
let ClientCtor: grpc.ServiceClientConstructor | undefined;
/** The proto's service with the Pull stream's messages (de)serialized by the raw chunk codec. */
function service(): { def: grpc.ServiceDefinition; Client: grpc.ServiceClientConstructor } {
  if (!serviceDef || !ClientCtor) {
    const loaded = loadDefinition('collective')[SERVICE] as grpc.ServiceDefinition;
    if (!loaded?.Pull || !loaded?.Probe) throw new Error(`${SERVICE} in protos/collective.proto lacks Pull/Probe`);
    serviceDef = {
      ...loaded,
      Pull: { ...loaded.Pull, responseSerialize: encodeChunk, responseDeserialize: decodeChunk },
    } as grpc.ServiceDefinition;
    ClientCtor = grpc.makeGenericClientConstructor(serviceDef, 'Collective');
  }
  return { def: serviceDef, Client: ClientCtor };
}

/** How long close() lets queued frames and statuses drain before it cuts connections (a stopped peer never reads). */
const CLOSE_GRACE_MS = 1500;
const ORIGIN_RANK = 'gan-origin-rank';
const ORIGIN_ADDR = 'gan-origin-address';

type Group = GroupSpec;

/** One op in flight on this rank. */
class Op {
  readonly plan: RingPlan;
  readonly seen: Uint8Array;
  readonly expected: number;
  received = 0;
  outPending = 0;
  out?: OutStream;
  in?: InStream;
  queue: OutChunk[] = [];
  settled = false;
  /** start() has run: the op has queued what it sends first. */
  started = false;
  error?: CollectiveError;
  // Monotonic: a wall-clock step must not time an op out (or keep a stalled one alive).
  readonly startedAt = performance.now();
  lastProgress = performance.now();
  stallWarned = false;
  timingOut = false;
  graceTimer?: NodeJS.Timeout;
  timer?: NodeJS.Timeout;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (e: Error) => void;

  constructor(
    readonly c: Collective,
    readonly kind: OpKindName,
    readonly group: Group,
    readonly seq: number,
    /** the buffer the ring works on: the caller's (allReduce, broadcast) or the gathered result */
    readonly buf: Float32Array,
    readonly wire: WireFormat,
    readonly mean: boolean,
    plan: RingPlan,
    readonly shape: PullRequest,
  ) {
    this.plan = plan;
    this.seen = new Uint8Array(slotCount(plan));
    this.expected = expectedReceives(plan);
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

  progress(): void {
    this.lastProgress = performance.now();
  }

  send(ch: OutChunk): void {
    if (this.settled) return;
    if (!this.out) {
      this.queue.push(ch);
      return;
    }
    this.outPending++;
    this.out.write(ch, (err?: Error | null) => {
      this.outPending--;
      if (err) return; // the 'cancelled'/'error' path reports it
      this.progress();
      this.maybeFinish();
    });
  }

  /** chunk k of segment seg at (phase, step), from this.buf */
  sendChunk(phase: number, step: number, seg: number, k: number): void {
    const [offset, count] = chunkRange(this.plan, seg, k);
    this.send({
      jobId: this.c.jobId, generation: this.group.generation, seq: this.seq, phase, step, segment: seg, index: k,
      offset, count, wire: WIRE_CODE[this.wire], src: this.buf,
    });
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

  attachOut(out: OutStream): void {
    this.out = out;
    this.progress();
    out.onGone(() => this.onSuccessorGone());
    const q = this.queue;
    this.queue = [];
    for (const ch of q) this.send(ch);
    this.maybeFinish();
  }

  onChunk(c: InChunk): void {
    if (this.settled) return;
    // The size check (after the tag check has pinned the wire format) keeps payloadView below from throwing.
    const why = checkChunk(this.plan, { jobId: this.c.jobId, generation: this.group.generation, seq: this.seq, wire: WIRE_CODE[this.wire] }, c, this.seen)
      ?? payloadSizeError(c);
    if (why) {
      this.fail(new CollectiveError(status.FAILED_PRECONDITION, `${this.name}: refused a chunk from ${peerName(this.pred)}: ${why}`, this.pred));
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
          if (this.mean) divideBy(dst, n);
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

  maybeFinish(): void {
    // Not before start(): a successor stream attached early must not finish a root that has sent nothing yet.
    if (!this.started || this.settled || this.received < this.expected || this.outPending > 0 || this.queue.length > 0) return;
    if (hasSuccessorStream(this.plan) && !this.out) return;
    this.settled = true;
    this.cleanup();
    this.out?.end();
    this.resolveDone();
  }

  /** The predecessor's stream failed. */
  onInError(err: StreamStatus): void {
    if (this.settled) return;
    if (err.origin) {
      this.fail(new CollectiveError(err.code, `${this.name} aborted: ${err.details}`, err.origin));
      return;
    }
    const code = err.code === status.CANCELLED || err.code === status.UNKNOWN || err.code === status.INTERNAL ? status.UNAVAILABLE : err.code;
    this.fail(new CollectiveError(code, `${this.name}: lost the stream from predecessor ${peerName(this.pred)}: ${err.details}`, this.pred));
  }

  onInEnd(): void {
    if (this.settled || this.received >= this.expected) return;
    this.fail(new CollectiveError(status.UNAVAILABLE, `${this.name}: predecessor ${peerName(this.pred)} ended its stream after ${this.received} of ${this.expected} chunks`, this.pred));
  }

  /** The successor hung up: died, or aborted. Give the abort reason a moment to come round the ring. */
  onSuccessorGone(): void {
    if (this.settled || this.graceTimer) return;
    this.graceTimer = setTimeout(() => {
      this.fail(new CollectiveError(status.UNAVAILABLE, `${this.name}: successor ${peerName(this.succ)} closed its stream (died or aborted)`, this.succ));
    }, this.c.abortGraceMs);
  }

  cleanup(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.timer = this.graceTimer = undefined;
  }

  fail(e: CollectiveError): void {
    if (this.settled) return;
    this.settled = true;
    this.error = e;
    this.cleanup();
    this.queue = [];
    const origin = e.peer && e.peer.rank !== this.group.rank ? e.peer : { rank: this.group.rank, address: this.c.address };
    const s: StreamStatus = { code: e.code, details: e.message, origin };
    if (this.out && !this.out.cancelled) this.out.abort(s);
    this.c.rememberAbort(this, s);
    this.in?.cancel();
    this.c.log.warn({ op: this.name, code: e.codeName, peer: e.peer }, e.message);
    this.rejectDone(e);
  }
}

export class Collective {
  readonly jobId: string;
  readonly log: Logger;
  readonly opTimeoutMs: number;
  readonly stallWarnMs: number;
  readonly abortGraceMs: number;
  readonly defaultWire: WireFormat;
  readonly chunkElems: number;
  private readonly flowControlWindow: number;
  private readonly creds: RunCredentials;
  private server!: grpc.Server;
  private boundAddress = '';
  private group?: Group;
  private seq = 0;
  private current?: Op;
  private readonly pending = new Map<string, OutStream>();
  private lastAbort?: { generation: number; seq: number; status: StreamStatus };
  private readonly clients = new Map<string, grpc.Client>();
  readonly transport: Transport;
  private dataServer?: DataServer;
  /** data connections to predecessors, by gRPC address (one op at a time each) */
  private readonly links = new Map<string, Promise<DataLink>>();
  /** data channel endpoints learnt from Probe, by gRPC address (port 0 and path '': the peer has none) */
  private readonly dataInfo = new Map<string, { port: number; path: string; hostId: string }>();
  private readonly unixSocket: boolean;
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
    this.flowControlWindow = positive(o.flowControlWindow ?? 32 << 20, 'flowControlWindow');
    if (o.dataPort !== undefined && !(Number.isInteger(o.dataPort) && o.dataPort >= 0 && o.dataPort <= 65535)) {
      throw new Error(`Collective.listen: dataPort must be an integer port number in [0, 65535], got ${o.dataPort}`);
    }
    this.creds = o.credentials ?? RunCredentials.insecure();
    this.transport = o.transport ?? 'tcp';
    this.unixSocket = o.unixSocket ?? true;
    if (this.transport !== 'tcp' && this.transport !== 'grpc') throw new Error(`Collective.listen: transport must be 'tcp' or 'grpc', got ${JSON.stringify(o.transport)}`);
  }

  /** Start the collective server; the worker advertises `address` before it knows its rank. */
  static async listen(o: ListenOptions): Promise<Collective> {
    const c = new Collective(o);
    const host = o.host ?? '127.0.0.1';
    const { def } = service();
    const { options } = c.creds.grpcServerOptions(c.log, 'collective', MAX_REQUEST_BYTES);
    c.server = new grpc.Server({ ...options, 'grpc.max_send_message_length': -1 });
    c.server.addService(def, {
      Pull: (call: grpc.ServerWritableStream<PullRequest__Output, OutChunk>) => c.onPull(grpcOut(call)),
      Probe: (call: grpc.ServerUnaryCall<ProbeRequest__Output, ProbeReply>, cb: grpc.sendUnaryData<ProbeReply>) => c.onProbe(call, cb),
    });
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const port = await new Promise<number>((res, rej) =>
      c.server.bindAsync(`${hostPart}:${o.port ?? 0}`, c.creds.grpcServerCredentials(), (e, p) => (e ? rej(new Error(`collective: cannot listen on ${hostPart}:${o.port ?? 0}: ${e.message}`)) : res(p))),
    );
    c.boundAddress = `${hostPart}:${port}`;
    // Served whatever this rank's own transport: a peer configured for tcp may pull from us.
    try {
      const auth = {
        jobId: c.jobId, secret: c.creds.secret, tls: c.creds.tlsServerOptions(), helloTimeoutMs: c.opTimeoutMs,
        onRefused: (host: string, why: string) => c.log.warn({ peer: host, why }, 'collective: refused a data connection; further refusals of this host are not logged'),
      };
      c.dataServer = await DataServer.listen(host, auth, (out) => c.onPull(out), c.unixSocket, o.dataPort ?? 0);
    } catch (e) {
      c.server.forceShutdown(); // the gRPC port must not outlive a failed listen
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
    if (this.group && generation <= this.group.generation) {
      throw new Error(`setGroup: generation ${generation} is not newer than the current ${this.group.generation}`);
    }
    if (this.closed) throw new Error('setGroup: collective is closed');
    this.current?.fail(new CollectiveError(status.ABORTED, `${this.current.name} superseded by generation ${generation}`));
    this.group = { rank, worldSize, peers: [...peers], generation };
    this.seq = 0;
    for (const [key, out] of this.pending) {
      const gen = Number(key.split(':')[0]);
      if (gen < generation) {
        this.pending.delete(key);
        out.abort({ code: status.FAILED_PRECONDITION, details: `generation ${gen} is over (now ${generation})` });
      }
    }
    // A new generation usually follows a failure: start it on fresh data connections.
    this.dropLinks();
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
    this.current?.fail(new CollectiveError(status.CANCELLED, `${this.current.name}: collective closed`));
    for (const out of this.pending.values()) out.abort({ code: status.UNAVAILABLE, details: 'collective closed' });
    this.pending.clear();
    this.dropLinks();
    // Both planes drain before they are cut, within CLOSE_GRACE_MS: an aborted op's status names the rank the failure
    // started at, and a process that exits right after close() must not drop it (its successor would blame it).
    const dataClosed = this.dataServer?.close(CLOSE_GRACE_MS);
    for (const cl of this.clients.values()) cl.close();
    this.clients.clear();
    await dataClosed;
    await new Promise<void>((res) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        res();
      }, CLOSE_GRACE_MS);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        res();
      });
    });
  }

  // ---- internals ----

  private enqueue(
    kind: OpKindName,
    setup: (g: Group) => { buf: Float32Array; wire: WireFormat; mean: boolean; plan: RingPlan; shape: Partial<PullRequest> },
  ): Promise<void> {
    const run = async () => {
      if (this.closed) throw new CollectiveError(status.CANCELLED, `${kind}: collective is closed`);
      const g = this.group;
      if (!g) throw new Error(`${kind}: setGroup() must be called before any collective op`);
      const s = setup(g);
      const seq = ++this.seq;
      const shape: PullRequest = {
        job_id: this.jobId, generation: String(g.generation), seq: String(seq), kind: KIND_CODE[kind] as never,
        from_rank: (g.rank + 1) % g.worldSize, to_rank: g.rank, world_size: g.worldSize, length: '0', wire: 'FP32',
        reduce: 'SUM', root: 0, chunk_elems: this.chunkElems, ...s.shape,
      };
      const op = new Op(this, kind, g, seq, s.buf, s.wire, s.mean, s.plan, shape);
      if (g.worldSize === 1) return;
      this.current = op;
      try {
        this.runOp(op);
        await op.done;
      } finally {
        if (this.current === op) this.current = undefined;
      }
    };
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private runOp(op: Op): void {
    const g = op.group;
    const tick = Math.max(10, Math.min(250, Math.floor(Math.min(this.opTimeoutMs, this.stallWarnMs) / 4)));
    op.timer = setInterval(() => this.inspect(op), tick);
    if (hasPredecessorStream(op.plan)) {
      const pred = op.pred;
      const req: PullRequest = { ...op.shape, from_rank: g.rank, to_rank: pred.rank };
      const h: InHandlers = { data: (c) => op.onChunk(c), error: (s) => op.onInError(s), end: () => op.onInEnd() };
      if (this.transport === 'grpc') op.in = this.grpcPull(pred.address, req, h);
      else {
        this.link(op, pred).then(
          (link) => {
            if (op.settled) return;
            op.in = link ? link.pull(req, h) : this.grpcPull(pred.address, req, h);
          },
          (e: Error) => op.fail(new CollectiveError(status.UNAVAILABLE, `${op.name}: cannot open the data connection to predecessor ${peerName(pred)}: ${e.message}`, pred)),
        );
      }
    }
    if (hasSuccessorStream(op.plan)) {
      const key = `${g.generation}:${op.seq}`;
      const call = this.pending.get(key);
      if (call) {
        this.pending.delete(key);
        this.attach(op, call);
      }
    }
    op.start();
  }

  private grpcPull(address: string, req: PullRequest, h: InHandlers): InStream {
    const call = (this.client(address) as any).Pull(req) as grpc.ClientReadableStream<InChunk>;
    call.on('data', (c: InChunk) => {
      try {
        h.data(c);
      } catch (e) {
        // A chunk that cannot be applied must fail the op here, not escape grpc-js as an unhandled error.
        call.cancel();
        h.error({ code: status.INTERNAL, details: `bad chunk from ${address}: ${(e as Error).message}` });
      }
    });
    call.on('error', (e: grpc.ServiceError) => h.error(fromServiceError(e)));
    call.on('end', h.end);
    return { cancel: () => call.cancel() };
  }

  /**
   * The data connection to the op's predecessor: reused while it lives, opened (Probe for the port, connect,
   * HELLO) when not. Resolves to null when the peer has no data port: the op then pulls over gRPC.
   */
  private async link(op: Op, pred: PeerRef): Promise<DataLink | null> {
    const cached = this.links.get(pred.address);
    if (cached) {
      const l = await cached.catch(() => undefined);
      if (l?.alive) return l;
      if (this.links.get(pred.address) === cached) this.links.delete(pred.address);
    }
    let info = this.dataInfo.get(pred.address);
    if (info === undefined) {
      const reply = await new Promise<ProbeReply>((res, rej) => {
        (this.client(pred.address) as any).Probe(
          { job_id: this.jobId, from_rank: op.group.rank },
          { deadline: Date.now() + this.opTimeoutMs },
          (err: grpc.ServiceError | null, r?: ProbeReply) => (err ? rej(new Error(`probe for its data port failed: ${err.details || err.message}`)) : res(r!)),
        );
      });
      info = { port: Number(reply.data_port ?? 0), path: String(reply.data_path ?? ''), hostId: String(reply.host_id ?? '') };
      this.dataInfo.set(pred.address, info);
    }
    const { port, path, hostId: theirHost } = info;
    if (!port && !path) return null;
    const base = {
      jobId: this.jobId, fromRank: op.group.rank, generation: op.group.generation, secret: this.creds.secret, tls: this.creds.tlsClientOptions(),
      timeoutMs: this.opTimeoutMs, maxChunkBytes: this.chunkElems * 4,
    };
    const host = pred.address.slice(0, pred.address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
    const open = async (): Promise<DataLink> => {
      if (path && this.unixSocket && theirHost && theirHost === hostId()) {
        try {
          return await DataLink.connect({ ...base, path: `\0${path.slice(1)}` });
        } catch (e) {
          // Same machine but not the same network namespace, say: TCP still reaches it.
          this.log.debug({ peer: pred, path, err: (e as Error).message }, 'data channel: Unix socket unreachable, using TCP');
          if (!port) throw e;
        }
      }
      return DataLink.connect({ ...base, host, port });
    };
    const p = open().then((l) => {
      this.log.info({ peer: pred, via: l.target }, 'collective: data channel to predecessor open');
      return l;
    });
    this.links.set(pred.address, p);
    p.catch(() => {
      if (this.links.get(pred.address) === p) this.links.delete(pred.address);
      this.dataInfo.delete(pred.address); // the peer may have restarted on another port
    });
    return p;
  }

  private dropLinks(): void {
    for (const p of this.links.values()) p.then((l) => l.close('generation over'), () => undefined);
    this.links.clear();
    // A peer restarted on the same gRPC address has new data endpoints: ask again.
    this.dataInfo.clear();
  }

  /** Hook the successor's pull up to our op once its request proves it is in the same op. */
  private attach(op: Op, call: OutStream): void {
    const r = call.request;
    const mine = op.shape;
    const diffs: string[] = [];
    for (const k of ['kind', 'world_size', 'length', 'wire', 'reduce', 'root', 'chunk_elems'] as const) {
      if (String(r[k]) !== String(mine[k])) diffs.push(`${k} ${r[k]} vs ${mine[k]} here`);
    }
    if (diffs.length) {
      const e = new CollectiveError(status.FAILED_PRECONDITION, `${op.name}: successor ${peerName(op.succ)} is in a different op: ${diffs.join(', ')}`, op.succ);
      call.abort({ code: e.code, details: e.message });
      op.fail(e);
      return;
    }
    op.attachOut(call);
  }

  private onPull(call: OutStream): void {
    const r = call.request;
    const gen = Number(r.generation);
    const seq = Number(r.seq);
    const refuse = (code: number, details: string) => {
      this.log.debug({ from: r.from_rank, gen, seq, details }, 'collective refused a pull');
      call.abort({ code, details });
    };
    // The refusal names nothing of this run (its job id is derived from the run secret).
    if (r.job_id !== this.jobId) return refuse(status.FAILED_PRECONDITION, 'pull for another job');
    if (this.closed) return refuse(status.UNAVAILABLE, 'collective closed');
    const g = this.group;
    if (g && gen < g.generation) return refuse(status.FAILED_PRECONDITION, `generation ${gen} is over (now ${g.generation})`);
    if (g && gen === g.generation) {
      if (r.to_rank !== g.rank || r.from_rank !== (g.rank + 1) % g.worldSize) {
        return refuse(status.FAILED_PRECONDITION, `rank ${r.from_rank} pulled from rank ${r.to_rank}, but this is rank ${g.rank} whose successor is ${(g.rank + 1) % g.worldSize}`);
      }
      const a = this.lastAbort;
      if (a && a.generation === gen && a.seq === seq) {
        call.abort(a.status);
        return;
      }
      const cur = this.current;
      if (cur && cur.seq === seq && !cur.settled) {
        if (cur.out) return refuse(status.ALREADY_EXISTS, `op #${seq} already has a successor stream`);
        if (!hasSuccessorStream(cur.plan)) return refuse(status.FAILED_PRECONDITION, `${cur.name}: rank ${g.rank} sends nothing in this op`);
        this.attach(cur, call);
        return;
      }
      if (seq <= this.seq) return refuse(status.FAILED_PRECONDITION, `op #${seq} of generation ${gen} is already over here (at #${this.seq})`);
    }
    // An op this rank has not reached yet (or a generation it has not been told of): hold the call until then.
    const key = `${gen}:${seq}`;
    if (this.pending.has(key)) return refuse(status.ALREADY_EXISTS, `op #${seq} already has a pending successor stream`);
    if (this.pending.size >= 64) return refuse(status.RESOURCE_EXHAUSTED, 'too many pending pulls');
    this.pending.set(key, call);
    call.onGone(() => {
      if (this.pending.get(key) === call) this.pending.delete(key);
    });
  }

  private onProbe(call: grpc.ServerUnaryCall<ProbeRequest__Output, ProbeReply>, cb: grpc.sendUnaryData<ProbeReply>): void {
    if (call.request.job_id !== this.jobId) {
      cb({ code: status.FAILED_PRECONDITION, details: 'probe for another job' });
      return;
    }
    const cur = this.current;
    cb(null, {
      job_id: this.jobId, generation: String(this.generation), rank: this.rank, seq: String(this.seq),
      in_op: !!cur && !cur.settled, chunks_received: String(cur?.received ?? 0),
      data_port: this.dataServer?.port ?? 0, data_path: atName(this.dataServer?.path ?? ''), host_id: this.dataServer?.path ? hostId() : '',
    });
  }

  rememberAbort(op: Op, s: StreamStatus): void {
    this.lastAbort = { generation: op.group.generation, seq: op.seq, status: s };
    const key = `${op.group.generation}:${op.seq}`;
    const call = this.pending.get(key);
    if (call) {
      this.pending.delete(key);
      call.abort(s);
    }
  }

  private client(address: string): grpc.Client {
    let cl = this.clients.get(address);
    if (!cl) {
      const { Client } = service();
      cl = new Client(address, this.creds.grpcChannelCredentials(), {
        ...this.creds.grpcClientOptions(),
        'grpc-node.flow_control_window': this.flowControlWindow,
        // A chunk (the largest reply) and its head; a bigger message from a peer is refused, not buffered.
        'grpc.max_receive_message_length': this.chunkElems * 4 + 4096,
        'grpc.max_send_message_length': -1,
        // Each peer gets its own connection even if two Collectives share a process (tests, benches).
        'grpc.use_local_subchannel_pool': 1,
      });
      this.clients.set(address, cl);
    }
    return cl;
  }

  /** Periodic check of the running op: stall warning, then the inactivity deadline. */
  private inspect(op: Op): void {
    if (op.settled || op.timingOut) return;
    const idle = Math.round(performance.now() - op.lastProgress);
    if (idle >= this.opTimeoutMs) {
      op.timingOut = true;
      void this.probeAll(op, Math.min(1000, Math.max(100, this.opTimeoutMs / 4))).then((probes) => {
        if (op.settled) return;
        op.fail(this.blame(op, idle, probes));
      });
    } else if (idle >= this.stallWarnMs && !op.stallWarned) {
      op.stallWarned = true;
      void this.probeAll(op, Math.min(1000, this.stallWarnMs)).then((probes) => {
        if (op.settled) return;
        const { notJoined, unresponsive } = classify(op, probes);
        this.log.warn(
          { op: op.name, waitingMs: Math.round(performance.now() - op.startedAt), notJoined, unresponsive, receivedChunks: op.received, expectedChunks: op.expected },
          `stall: ${op.name} has made no progress for ${idle} ms; ranks not joined: ${notJoined.map((x) => x.rank).join(', ') || 'none'}; unresponsive: ${unresponsive.map((x) => x.rank).join(', ') || 'none'}`,
        );
      });
    }
  }

  private probeAll(op: Op, deadlineMs: number): Promise<Probe[]> {
    const g = op.group;
    const jobs: Promise<Probe>[] = [];
    for (let r = 0; r < g.worldSize; r++) {
      if (r === g.rank) continue;
      const peer = { rank: r, address: g.peers[r] };
      jobs.push(new Promise<Probe>((res) => {
        (this.client(peer.address) as any).Probe(
          { job_id: this.jobId, from_rank: g.rank },
          { deadline: Date.now() + deadlineMs },
          (err: grpc.ServiceError | null, reply?: ProbeReply) => res({ peer, err: err ?? undefined, reply }),
        );
      }));
    }
    return Promise.all(jobs);
  }

  private blame(op: Op, idle: number, probes: Probe[]): CollectiveError {
    const head = `${op.name} made no progress for ${idle} ms`;
    const { notJoined, unresponsive } = classify(op, probes);
    const dead = probes.find((p) => p.err && p.err.code !== status.DEADLINE_EXCEEDED);
    const hung = probes.find((p) => p.err?.code === status.DEADLINE_EXCEEDED);
    if (hung) return new CollectiveError(status.DEADLINE_EXCEEDED, `${head}: ${peerName(hung.peer)} does not answer (stopped or hung); unresponsive: ${unresponsive.map((x) => x.rank).join(', ')}`, hung.peer);
    if (dead) return new CollectiveError(status.UNAVAILABLE, `${head}: ${peerName(dead.peer)} is unreachable: ${dead.err!.details}`, dead.peer);
    if (notJoined.length) {
      const p = notJoined[0];
      return new CollectiveError(status.DEADLINE_EXCEEDED, `${head}: ${peerName(p)} has not joined it (it is at generation ${p.generation} op #${p.seq}); not joined: ${notJoined.map((x) => x.rank).join(', ')}`, { rank: p.rank, address: p.address });
    }
    return new CollectiveError(status.DEADLINE_EXCEEDED, `${head}: waiting on predecessor ${peerName(op.pred)}`, op.pred);
  }
}

/** A gRPC Pull call as an OutStream: the status (and the origin rank, in trailing metadata) ends the call. */
function grpcOut(call: grpc.ServerWritableStream<PullRequest__Output, OutChunk>): OutStream {
  call.on('error', () => {}); // a failed write surfaces as 'cancelled'
  return {
    request: call.request,
    get cancelled() {
      return call.cancelled;
    },
    write: (ch, cb) => void call.write(ch, cb),
    end: () => call.end(),
    abort: (s) => {
      const metadata = new grpc.Metadata();
      if (s.origin) {
        metadata.set(ORIGIN_RANK, String(s.origin.rank));
        metadata.set(ORIGIN_ADDR, s.origin.address);
      }
      call.emit('error', { code: s.code, details: s.details, metadata });
    },
    onGone: (fn) => void call.on('cancelled', fn),
  };
}

function fromServiceError(err: grpc.ServiceError): StreamStatus {
  const oRank = err.metadata?.get(ORIGIN_RANK)[0];
  const oAddr = err.metadata?.get(ORIGIN_ADDR)[0];
  return {
    code: err.code, details: err.details || err.message,
    ...(oRank !== undefined ? { origin: { rank: Number(oRank), address: String(oAddr ?? '') } } : {}),
  };
}

interface Probe {
  peer: PeerRef;
  err?: grpc.ServiceError;
  reply?: ProbeReply;
}

function classify(op: Op, probes: Probe[]) {
  const notJoined: (PeerRef & { generation: number; seq: number })[] = [];
  const unresponsive: (PeerRef & { error: string })[] = [];
  for (const p of probes) {
    if (p.err || !p.reply) {
      unresponsive.push({ ...p.peer, error: p.err ? status[p.err.code] : 'no reply' });
      continue;
    }
    const gen = Number(p.reply.generation);
    const seq = Number(p.reply.seq);
    if (gen < op.group.generation || (gen === op.group.generation && seq < op.seq)) notJoined.push({ ...p.peer, generation: gen, seq });
  }
  return { notJoined, unresponsive };
}

function positive(v: number, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`Collective.listen: ${name} must be a positive number, got ${v}`);
  return v;
}

function checkBuf(buf: unknown, op: string): asserts buf is Float32Array {
  if (!(buf instanceof Float32Array)) throw new Error(`${op}: buffer must be a Float32Array, got ${Object.prototype.toString.call(buf)}`);
}
