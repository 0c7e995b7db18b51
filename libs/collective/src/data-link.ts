// The collective's bulk data channel (transport "tcp"): plain socket connections carrying the Pull stream's messages
// as length-prefixed frames (protos/collective.proto, "The bulk data channel"). Why not gRPC for the bytes: grpc-js
// runs on Node's http2, which moves ~0.5 GB/s one way on loopback on the CI box, while two Node processes move
// 1.4-1.8 GB/s each way over plain TCP and ~2 GB/s over Unix sockets (bench/tcp-baseline.ts); gRPC keeps discovery
// (Probe: data_port, data_path, host_id), liveness and the stall inspector. Each DataServer listens on a TCP port
// and, on Linux, an abstract Unix socket that successors on the same machine use instead.
//
// Roles mirror the Pull stream: the successor connects to its predecessor (DataLink, client side), proves it holds
// the run secret (CHALLENGE → HELLO with an HMAC → WELCOME with the predecessor's HMAC, @gan/auth's data-handshake),
// then sends one PULL per op; the predecessor's DataServer hands each PULL to the collective as an OutStream,
// whose chunks go back as CHUNK frames and whose end or abort is one STATUS frame. Ops on one connection are
// strictly sequential. Cancelling an op closes the connection; the next op opens a fresh one.
//
// Hot path: fp32 payloads are written straight from the op's Float32Array (no copy in JS; the kernel copies);
// 16-bit payloads are encoded into buffers from a small free list. The receiver's `onread` buffer is, read by read,
// exactly the missing part of the current frame in a reused 4-byte-aligned scratch, so the kernel copies each body
// into place: no payload copy in JS and no payload-sized allocation per chunk.
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { checkHelloMac, checkWelcomeMac, helloMac, newNonce, welcomeMac, type HelloFields, type RunSecret } from '@gan/auth';
import {
  messageCodec, type DataChallenge, type DataChallenge__Output, type DataHello, type DataHello__Output, type DataWelcome,
  type DataWelcome__Output, type OpStatus, type OpStatus__Output, type PullRequest, type PullRequest__Output,
} from '@gan/proto';
import { decodeChunk, encodeChunkFrame, FRAME, FRAME_PREFIX, type InChunk, type OutChunk } from './chunk-codec';
import type { PeerRef } from './errors';

const { status } = grpc;
const PKG = 'gan.collective.v1';
let codecs: ReturnType<typeof makeCodecs> | undefined;
function makeCodecs() {
  return {
    hello: messageCodec<DataHello, DataHello__Output>('collective', `${PKG}.DataHello`),
    challenge: messageCodec<DataChallenge, DataChallenge__Output>('collective', `${PKG}.DataChallenge`),
    welcome: messageCodec<DataWelcome, DataWelcome__Output>('collective', `${PKG}.DataWelcome`),
    pull: messageCodec<PullRequest, PullRequest__Output>('collective', `${PKG}.PullRequest`),
    status: messageCodec<OpStatus, OpStatus__Output>('collective', `${PKG}.OpStatus`),
  };
}
const codec = () => (codecs ??= makeCodecs());

/** Largest control frame (HELLO, PULL, STATUS) a peer may send; a larger length prefix is a protocol error. */
const MAX_CONTROL_BYTES = 1 << 16;
/** Room for a chunk's head (tag fields, job id, padding) on top of its payload. */
const CHUNK_HEAD_ROOM = 4096;
/** Before its HELLO is accepted a connection may send only this much: a HELLO is under 200 bytes. */
const MAX_HELLO_BYTES = 1024;

/** How a data server admits connections. */
export interface DataServerAuth {
  jobId: string;
  /** the run secret: HELLO must carry its MAC; without it (--insecure) the job id alone is checked */
  secret?: RunSecret;
  /** TLS server options (mutual TLS): the data link runs over TLS on TCP and on the Unix socket */
  tls?: tls.TlsOptions;
  /** a connection without an accepted HELLO after this long is closed (default 5000) */
  helloTimeoutMs?: number;
  /** connections beyond this many are closed at once (default 64: a ring needs one per generation) */
  maxConnections?: number;
  /** told once per remote host about refused connections (bad HELLO, no HELLO, over the cap) */
  onRefused?: (host: string, why: string) => void;
}

/** A status ending an op's stream: code 0 = OK. `origin` is the rank the failure started at. */
export interface StreamStatus {
  code: number;
  details: string;
  origin?: PeerRef;
}

/** The predecessor's side of one op: where this rank's chunks for its successor go (Pull stream or data link). */
export interface OutStream {
  readonly request: PullRequest__Output;
  /** the successor is gone (closed the connection / cancelled the call) */
  readonly cancelled: boolean;
  /** cb runs once the chunk has left this process's buffers (or with an error if it never will) */
  write(ch: OutChunk, cb: (err?: Error | null) => void): void;
  /** the op's stream ended normally */
  end(): void;
  /** refuse the pull or abort the op with this status */
  abort(s: StreamStatus): void;
  onGone(fn: () => void): void;
}

/** What the successor's side of one op reports. */
export interface InHandlers {
  data(c: InChunk): void;
  error(s: StreamStatus): void;
  end(): void;
}

/** The successor's side of one op; cancel() tells the predecessor to stop (closes the connection). */
export interface InStream {
  cancel(): void;
}

function frame(type: number, body: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(FRAME_PREFIX + body.length);
  b.writeUInt32LE(body.length, 0);
  b[4] = type;
  b.set(body, FRAME_PREFIX);
  return b;
}

function statusFrame(seq: number, s: StreamStatus): Buffer {
  return frame(FRAME.STATUS, codec().status.encode({
    seq: String(seq), code: s.code, details: s.details, origin_rank: s.origin ? s.origin.rank : -1, origin_address: s.origin?.address ?? '',
  }));
}

/**
 * Incremental frame parser. Bytes land either straight in `region()` (the part of the current frame still missing:
 * the 5-byte prefix, or the rest of the body in a reused scratch) followed by `advance(n)` — the receive path, used
 * as the socket's `onread` buffer so the kernel copies each frame's body into place with no copy in JS — or are
 * copied in by `feed` (control connections). Complete frames go to `onFrame` with the body as a view of the scratch,
 * valid only during the call, placed so a CHUNK's payload is 4-byte aligned.
 */
class FrameReader {
  private readonly prefix = Buffer.alloc(FRAME_PREFIX);
  private prefixFill = 0;
  private body = Buffer.allocUnsafeSlow(1 << 16);
  private bodyLen = -1;
  private bodyFill = 0;
  private type = 0;

  constructor(
    private readonly maxBody: (type: number) => number,
    private readonly onFrame: (type: number, body: Buffer) => void,
  ) {}

  /** Where the next bytes go (never empty). */
  region(): Buffer {
    // Body at scratch byte 1: the sender padded the chunk head to 3 mod 4, so the payload lands 4-byte aligned.
    return this.bodyLen < 0 ? this.prefix.subarray(this.prefixFill) : this.body.subarray(1 + this.bodyFill, 1 + this.bodyLen);
  }

  /** n bytes were written at the start of region(). Throws on a malformed frame; the caller closes the connection. */
  advance(n: number): void {
    if (this.bodyLen < 0) {
      this.prefixFill += n;
      if (this.prefixFill < FRAME_PREFIX) return;
      this.prefixFill = 0;
      const len = this.prefix.readUInt32LE(0);
      this.type = this.prefix[4];
      const max = this.maxBody(this.type);
      if (max < 0) throw new Error(`unknown frame type ${this.type}`);
      if (len > max) throw new Error(`frame of type ${this.type} claims ${len} bytes (at most ${max} allowed)`);
      if (this.body.length < len + 1) this.body = Buffer.allocUnsafeSlow(Math.max(len + 1, this.body.length * 2));
      this.bodyLen = len;
      this.bodyFill = 0;
    } else this.bodyFill += n;
    if (this.bodyFill === this.bodyLen) {
      const len = this.bodyLen;
      this.bodyLen = -1;
      this.onFrame(this.type, this.body.subarray(1, 1 + len));
    }
  }

  feed(src: Uint8Array): void {
    let p = 0;
    while (p < src.length) {
      const r = this.region();
      const k = Math.min(r.length, src.length - p);
      r.set(src.subarray(p, p + k));
      p += k;
      this.advance(k);
    }
  }
}

/** Free list of encode buffers for 16-bit chunks: one per chunk in flight, returned when the write completes. */
class BufferPool {
  private free: Buffer[] = [];
  /** `minBytes`: the smallest buffer made; `keep`: how many free buffers are kept */
  constructor(
    private readonly minBytes: number,
    private readonly keep: number,
  ) {}
  take(bytes: number): Buffer {
    const b = this.free.pop();
    if (b && b.length >= bytes) return b;
    return Buffer.allocUnsafeSlow(Math.max(bytes, b?.length ?? 0, this.minBytes));
  }
  give(b: Buffer): void {
    if (this.free.length < this.keep) this.free.push(b);
  }
}

/** One op's stream to the successor over a data connection. */
class TcpOut implements OutStream {
  cancelled = false;
  private done = false;
  get over(): boolean {
    return this.done || this.cancelled;
  }
  private readonly gone: (() => void)[] = [];
  constructor(
    readonly request: PullRequest__Output,
    private readonly sock: net.Socket,
    private readonly pools: { heads: BufferPool; payloads: BufferPool },
  ) {}

  write(ch: OutChunk, cb: (err?: Error | null) => void): void {
    if (this.done || this.cancelled || this.sock.destroyed) {
      queueMicrotask(() => cb(new Error('data connection closed')));
      return;
    }
    // Head and 16-bit payload come from free lists and go back once written: no allocation per chunk.
    let hb: Buffer | undefined;
    let pb: Buffer | undefined;
    const { head, payload } = encodeChunkFrame(ch, {
      head: (bytes) => (hb = this.pools.heads.take(bytes)),
      payload16: (bytes) => (pb = this.pools.payloads.take(bytes)),
    });
    const done = (err?: Error | null) => {
      if (hb) this.pools.heads.give(hb);
      if (pb) this.pools.payloads.give(pb);
      cb(err);
    };
    if (!payload) {
      this.sock.write(head, done);
      return;
    }
    // One writev for head + payload; the payload is not copied here, and the op keeps that region unchanged until
    // this callback (the ring only rewrites a region after the chunk sent from it has come back around).
    this.sock.cork();
    this.sock.write(head);
    this.sock.write(payload, done);
    this.sock.uncork();
  }

  end(): void {
    this.finish({ code: status.OK, details: '' });
  }

  abort(s: StreamStatus): void {
    this.finish(s);
  }

  private finish(s: StreamStatus): void {
    if (this.done) return;
    this.done = true;
    if (!this.sock.destroyed) this.sock.write(statusFrame(Number(this.request.seq), s));
  }

  onGone(fn: () => void): void {
    this.gone.push(fn);
  }

  /** the connection closed */
  lost(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (!this.done) for (const f of this.gone) f();
  }
}

let hostIdCache: string | undefined;
/** Names this machine (and boot): two ranks with the same id can reach each other's abstract Unix sockets. */
export function hostId(): string {
  if (hostIdCache === undefined) {
    let boot = '';
    try {
      boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      /* not Linux: no abstract sockets either */
    }
    hostIdCache = boot ? `${os.hostname()}/${boot}` : '';
  }
  return hostIdCache;
}

/** An abstract socket name as text: the leading NUL shown as '@' (the `ss -x` convention). */
export function atName(path: string): string {
  return path.startsWith('\0') ? `@${path.slice(1)}` : path;
}

function listenOn(server: net.Server, where: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(where, () => {
      server.off('error', rej);
      res();
    });
  });
}

/**
 * Accepts successors' data connections, on a TCP port and (Linux) an abstract Unix socket for successors on the
 * same machine; each PULL frame of an admitted connection becomes an OutStream handed to `onPull`. Admission: at most
 * `maxConnections` at a time, and a HELLO (with the run secret's MAC when there is one) within `helloTimeoutMs`.
 */
export class DataServer {
  private readonly sockets = new Set<net.Socket>();
  // Per server, shared by its connections' streams: frame heads (tens of bytes; one per chunk in flight) and 16-bit
  // payloads (a chunk's size each).
  private readonly pools = { heads: new BufferPool(128, 1024), payloads: new BufferPool(0, 64) };
  private readonly servers: net.Server[] = [];
  private readonly refusedHosts = new Set<string>();
  /** connections closed without being admitted (for tests and logs) */
  refused = 0;
  port = 0;
  /** abstract socket name with its leading NUL; '' when there is none */
  path = '';

  private constructor(
    private readonly auth: DataServerAuth,
    private readonly onPull: (out: OutStream) => void,
  ) {}

  /** `port` 0 = any free port; a taken port rejects with a message naming it. */
  static async listen(host: string, auth: DataServerAuth, onPull: (out: OutStream) => void, unixSocket = true, port = 0): Promise<DataServer> {
    const d = new DataServer(auth, onPull);
    const make = () => {
      // With TLS the connection is handed over once its handshake (client certificate included) has passed.
      const server = auth.tls
        ? tls.createServer({ ...auth.tls, handshakeTimeout: auth.helloTimeoutMs ?? 5000 }, (s) => d.accept(s))
        : net.createServer({ noDelay: true }, (s) => d.accept(s));
      if (auth.tls) server.on('tlsClientError', (e, s) => d.refuse(s, `TLS: ${e.message}`));
      d.servers.push(server);
      return server;
    };
    const tcp = make();
    try {
      await listenOn(tcp, { port, host });
    } catch (e) {
      throw new Error(`collective: cannot listen for data connections on ${host}:${port}: ${(e as Error).message}`);
    }
    d.port = (tcp.address() as net.AddressInfo).port;
    if (unixSocket && hostId()) {
      // Abstract names vanish with the process (no stale files after a SIGKILL) and are local to this machine.
      const path = `\0gan-collective-${process.pid}-${randomBytes(6).toString('hex')}`;
      try {
        await listenOn(make(), { path });
        d.path = path;
      } catch {
        d.servers.pop()?.close(); // TCP alone still works
      }
    }
    return d;
  }

  /** Closes a connection that was not admitted; the first refusal per host is reported. */
  private refuse(sock: net.Socket, why: string, reply?: StreamStatus): void {
    this.refused += 1;
    const host = sock.remoteAddress ?? 'unix socket';
    if (!this.refusedHosts.has(host) && this.refusedHosts.size < 256) {
      this.refusedHosts.add(host);
      this.auth.onRefused?.(host, why);
    }
    if (reply && !sock.destroyed) {
      sock.end(statusFrame(0, reply));
      setTimeout(() => sock.destroy(), 1000).unref();
    } else sock.destroy();
  }

  private accept(sock: net.Socket): void {
    const maxConnections = this.auth.maxConnections ?? 64;
    if (this.sockets.size >= maxConnections) {
      sock.on('error', () => {});
      this.refuse(sock, `more than ${maxConnections} data connections`);
      return;
    }
    this.sockets.add(sock);
    sock.setNoDelay(true);
    const secret = this.auth.secret;
    const serverNonce = secret ? newNonce() : undefined;
    /** the HELLO this connection was admitted with */
    let peer: { generation: number; rank: number } | undefined;
    const helloTimer = setTimeout(() => {
      if (!peer) this.refuse(sock, `no HELLO within ${this.auth.helloTimeoutMs ?? 5000} ms`);
    }, this.auth.helloTimeoutMs ?? 5000);
    helloTimer.unref();
    // Streams of this connection not known to be over; a newer PULL does not end an older stream (its STATUS may
    // still be on the way), only the connection's close does.
    const outs = new Set<TcpOut>();
    const reader = new FrameReader(
      (t) => (!peer ? (t === FRAME.HELLO ? MAX_HELLO_BYTES : -1) : t === FRAME.PULL ? MAX_CONTROL_BYTES : -1),
      (type, body) => {
        if (!peer) {
          const h = codec().hello.decode(body);
          const fields: HelloFields = {
            jobId: this.auth.jobId, generation: Number(h.generation), rank: h.from_rank, serverNonce: serverNonce ?? Buffer.alloc(0), clientNonce: h.nonce,
          };
          if (h.job_id !== this.auth.jobId) {
            this.refuse(sock, 'HELLO for another job', { code: status.FAILED_PRECONDITION, details: 'data link: HELLO for another job' });
            return;
          }
          if (secret && !checkHelloMac(secret, fields, h.mac)) {
            this.refuse(sock, 'HELLO without a valid MAC', { code: status.UNAUTHENTICATED, details: 'data link: HELLO not authenticated' });
            return;
          }
          clearTimeout(helloTimer);
          peer = { generation: fields.generation, rank: fields.rank };
          if (secret) sock.write(frame(FRAME.WELCOME, codec().welcome.encode({ mac: welcomeMac(secret, fields) })));
          return;
        }
        const req = codec().pull.decode(body);
        // An admitted connection speaks for one rank of one generation: a PULL for another is a protocol error.
        if (secret && (Number(req.generation) !== peer.generation || req.from_rank !== peer.rank)) {
          throw new Error(`PULL as rank ${req.from_rank} of generation ${req.generation} on a connection admitted for rank ${peer.rank} of generation ${peer.generation}`);
        }
        for (const o of outs) if (o.over) outs.delete(o);
        const out = new TcpOut(req, sock, this.pools);
        outs.add(out);
        this.onPull(out);
      },
    );
    sock.on('data', (b: Buffer) => {
      if (sock.destroyed) return;
      try {
        reader.feed(b);
      } catch (e) {
        if (!peer) this.refuse(sock, `bad frame before HELLO: ${(e as Error).message}`);
        else sock.destroy(new Error(`bad frame from ${sock.remoteAddress}:${sock.remotePort}: ${(e as Error).message}`));
      }
    });
    sock.on('error', () => {}); // 'close' follows
    sock.on('close', () => {
      clearTimeout(helloTimer);
      this.sockets.delete(sock);
      for (const o of outs) o.lost();
    });
    if (serverNonce) sock.write(frame(FRAME.CHALLENGE, codec().challenge.encode({ nonce: serverNonce })));
  }

  /**
   * Stops accepting, then half-closes every connection so what is already queued (above all an aborted op's STATUS,
   * which names the rank the failure started at) still reaches the successor; a connection not drained within
   * `graceMs` (a peer that stopped reading) is destroyed. Destroying at once dropped that STATUS under load, and the
   * successor then blamed this rank instead of the one that died.
   */
  async close(graceMs = 500): Promise<void> {
    for (const s of this.servers) s.close();
    const socks = [...this.sockets];
    this.sockets.clear();
    await Promise.all(
      socks.map(
        (s) =>
          new Promise<void>((res) => {
            if (s.destroyed) return res();
            const t = setTimeout(() => s.destroy(), graceMs);
            s.once('close', () => {
              clearTimeout(t);
              res();
            });
            s.end();
          }),
      ),
    );
  }
}

export interface LinkOptions {
  /** TCP host and port, or `path`: a Unix socket (Linux abstract names start with a NUL) */
  host?: string;
  port?: number;
  path?: string;
  jobId: string;
  fromRank: number;
  /** the generation this connection serves (the handshake binds it, with fromRank) */
  generation: number;
  /** the run secret: answer the predecessor's challenge and check its proof; absent with --insecure */
  secret?: RunSecret;
  /** TLS client options (mutual TLS) when the run uses TLS */
  tls?: tls.ConnectionOptions;
  /** connect + handshake deadline */
  timeoutMs: number;
  /** largest chunk payload of an op, fp32 bytes (both ends use the same chunk size); a larger frame is refused */
  maxChunkBytes: number;
}

/** The successor's connection to its predecessor's DataServer; one op at a time. */
export class DataLink {
  private active?: { seq: number; h: InHandlers };
  private closedWhy?: string;
  private readonly reader: FrameReader;
  private readonly sock: net.Socket;
  /** set until the handshake is over: where CHALLENGE, WELCOME and a refusal go */
  private handshake?: { onFrame(type: number, body: Buffer): void };

  private constructor(readonly target: string, o: LinkOptions) {
    this.reader = new FrameReader(
      (t) => (t === FRAME.CHUNK && !this.handshake ? o.maxChunkBytes + CHUNK_HEAD_ROOM
        : t === FRAME.STATUS || (this.handshake && (t === FRAME.CHALLENGE || t === FRAME.WELCOME)) ? MAX_CONTROL_BYTES : -1),
      (type, body) => (this.handshake ? this.handshake.onFrame(type, body) : this.onFrame(type, body)),
    );
    const where = o.path !== undefined ? { path: o.path } : { host: o.host!, port: o.port! };
    if (o.tls) {
      // TLS sockets have no `onread`: their records are decrypted into Node's buffers, so the reader copies.
      this.sock = tls.connect({ ...where, ...o.tls, ...(o.path !== undefined ? { servername: '' } : {}) });
      this.sock.setNoDelay?.(true);
      this.sock.on('data', (b: Buffer) => this.feed(b));
    } else {
      this.sock = net.connect({
        ...where, noDelay: true,
        // Each read lands where its bytes belong (FrameReader.region): the kernel copies chunk bodies into place.
        // The socket asks for its first buffer here, so the reader must exist already.
        onread: {
          buffer: () => this.reader.region(),
          callback: (n: number) => {
            this.advance(n);
            return true;
          },
        },
      });
    }
  }

  get alive(): boolean {
    return !this.closedWhy && !this.sock.destroyed;
  }

  /** Connects and completes the handshake (HELLO; with a secret, CHALLENGE → HELLO → WELCOME) within o.timeoutMs. */
  static connect(o: LinkOptions): Promise<DataLink> {
    const target = o.path !== undefined ? `unix:${atName(o.path)}` : `${o.host}:${o.port}`;
    const link = new DataLink(target, o);
    const sock = link.sock;
    return new Promise((res, rej) => {
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        link.handshake = undefined;
        link.close(why);
        rej(new Error(why));
      };
      const ok = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        link.handshake = undefined;
        res(link);
      };
      const timer = setTimeout(() => fail(`no ${o.secret ? 'authenticated ' : ''}connection within ${o.timeoutMs} ms`), o.timeoutMs);
      const clientNonce = newNonce();
      let fields: HelloFields | undefined;
      const hello = (serverNonce: Buffer) => {
        fields = { jobId: o.jobId, generation: o.generation, rank: o.fromRank, serverNonce, clientNonce };
        sock.write(frame(FRAME.HELLO, codec().hello.encode({
          job_id: o.jobId, from_rank: o.fromRank, generation: String(o.generation), nonce: clientNonce,
          mac: o.secret ? helloMac(o.secret, fields) : Buffer.alloc(0),
        })));
      };
      link.handshake = {
        onFrame: (type, body) => {
          if (type === FRAME.STATUS) {
            const st = codec().status.decode(body);
            fail(`${target} refused the data connection: ${st.details}`);
          } else if (type === FRAME.CHALLENGE && o.secret && !fields) {
            // A copy: decoded bytes are views of the reader's scratch, which the next frame overwrites.
            hello(Buffer.from(codec().challenge.decode(body).nonce));
          } else if (type === FRAME.WELCOME && o.secret && fields) {
            if (checkWelcomeMac(o.secret, fields, codec().welcome.decode(body).mac)) ok();
            else fail(`${target} did not prove it holds the run secret`);
          } else fail(`${target} sent frame type ${type} during the handshake`);
        },
      };
      sock.once(o.tls ? 'secureConnect' : 'connect', () => {
        if (!o.secret) {
          hello(Buffer.alloc(0));
          ok();
        }
      });
      sock.on('error', (e) => {
        fail(e.message);
        link.lost(e.message);
      });
      sock.on('close', () => {
        fail('connection closed during the handshake');
        link.lost('connection closed');
      });
    });
  }

  /** Start an op's stream: send its PULL; its chunks and final status go to h. */
  pull(req: PullRequest, h: InHandlers): InStream {
    if (!this.alive) {
      const why = this.closedWhy ?? 'connection closed';
      queueMicrotask(() => h.error({ code: status.UNAVAILABLE, details: `data connection to ${this.target}: ${why}` }));
      return { cancel: () => {} };
    }
    this.active = { seq: Number(req.seq), h };
    this.sock.write(frame(FRAME.PULL, codec().pull.encode(req)));
    return { cancel: () => this.close('cancelled') };
  }

  close(why = 'closed'): void {
    this.closedWhy ??= why;
    this.active = undefined;
    this.sock.destroy();
  }

  private feed(b: Buffer): void {
    if (this.closedWhy) return;
    try {
      this.reader.feed(b);
    } catch (e) {
      this.badFrame(e as Error);
    }
  }

  private advance(n: number): void {
    if (this.closedWhy) return;
    try {
      this.reader.advance(n);
    } catch (e) {
      this.badFrame(e as Error);
    }
  }

  private badFrame(e: Error): void {
    const msg = `bad frame from ${this.target}: ${e.message}`;
    const a = this.active;
    this.close(msg);
    a?.h.error({ code: status.INTERNAL, details: msg });
  }

  private onFrame(type: number, body: Buffer): void {
    const a = this.active;
    if (type === FRAME.CHUNK) {
      // Every chunk goes to the running op, whose tag check refuses anything that is not its own.
      if (!a) throw new Error('a chunk arrived with no op pulling');
      a.h.data(decodeChunk(body));
      return;
    }
    const s = codec().status.decode(body);
    const seq = Number(s.seq);
    if (!a || (seq !== 0 && seq < a.seq)) return; // the end of an op this side has already finished
    this.active = undefined;
    if (s.code === status.OK) a.h.end();
    else {
      a.h.error({
        code: s.code, details: s.details,
        ...(s.origin_rank >= 0 ? { origin: { rank: s.origin_rank, address: s.origin_address } } : {}),
      });
    }
  }

  private lost(why: string): void {
    if (this.closedWhy && !this.active) return;
    this.closedWhy ??= why;
    const a = this.active;
    this.active = undefined;
    a?.h.error({ code: status.UNAVAILABLE, details: `data connection to ${this.target}: ${why}` });
  }
}
