// The predecessor's end of the data link (data-link.ts has the protocol and the successor's end): DataServer admits
// successors' connections after the handshake, and SuccessorConnection pushes the streams of this rank's ops down an
// admitted one, OPEN + CHUNKs + STATUS per op. fp32 payloads are written straight from the op's Float32Array (no copy
// in JS; the kernel copies); 16-bit payloads are encoded into buffers from a small free list.
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { checkHelloMac, newNonce, welcomeMac, type HelloFields, type RunSecret } from '@gan/auth';
import type { PullRequest } from '@gan/proto';
import { encodeChunkFrame, type OutChunk } from './chunk-codec';
import { BufferPool, codec, FRAME, frame, FrameReader, MAX_HELLO_BYTES, statusFrame } from './data-frames';
import type { CollectiveStatus } from './errors';
import type { SuccessorLink } from './ring-engine';

/** How a data server admits connections. */
export interface DataServerAuth {
  jobId: string;
  /**
   * The link key of a generation: a HELLO must carry its MAC. Resolves once this rank knows the generation (its
   * successor may connect first) and rejects for one that is over. Absent without a run secret (--insecure): the
   * job id alone is checked.
   */
  keyFor?: (generation: number) => Promise<RunSecret>;
  /** TLS server options (mutual TLS): the data link runs over TLS on TCP and on the Unix socket */
  tls?: tls.TlsOptions;
  /** a connection without an accepted HELLO after this long is closed (default 5000) */
  helloTimeoutMs?: number;
  /** connections beyond this many are closed at once (default 64: a ring needs one per generation) */
  maxConnections?: number;
  /** told once per remote host about refused connections (bad HELLO, no HELLO, over the cap) */
  onRefused?: (host: string, why: string) => void;
}

/** The predecessor's side of one op's stream on a successor's connection: what the ring engine sends into. */
export type OutStream = SuccessorLink;

/** One op's stream to the successor: OPEN at creation, then CHUNKs, then one STATUS. */
class TcpOut implements OutStream {
  cancelled = false;
  private done = false;
  get over(): boolean {
    return this.done || this.cancelled;
  }
  private readonly gone: (() => void)[] = [];
  constructor(
    private readonly seq: number,
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
    this.finish({ code: 'ok', details: '' });
  }

  abort(s: CollectiveStatus): void {
    this.finish(s);
  }

  private finish(s: CollectiveStatus): void {
    if (this.done) return;
    this.done = true;
    if (!this.sock.destroyed) this.sock.write(statusFrame(this.seq, s));
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

/**
 * A successor's admitted data connection, as the predecessor holds it: the handshake bound it to one rank of one
 * generation, and every op this rank sends to that successor in that generation is pushed down it, one at a time.
 */
export class SuccessorConnection {
  private current?: TcpOut;
  private readonly closed: (() => void)[] = [];

  constructor(
    /** the generation and the successor's rank, as its HELLO proved */
    readonly generation: number,
    readonly rank: number,
    private readonly sock: net.Socket,
    private readonly pools: { heads: BufferPool; payloads: BufferPool },
  ) {
    sock.on('close', () => {
      this.current?.lost();
      for (const f of this.closed) f();
    });
  }

  get alive(): boolean {
    return !this.sock.destroyed && !this.sock.writableEnded;
  }

  /** Start an op's stream (OPEN, describing the op so the successor can check it is in the same one). */
  open(req: PullRequest): OutStream {
    const prev = this.current;
    // The previous op's stream ended with a STATUS, unless it never got one: end it so the successor moves on.
    if (prev && !prev.over) prev.abort({ code: 'aborted', details: `op #${req.seq} started before the stream of the previous op ended` });
    const out = new TcpOut(Number(req.seq), this.sock, this.pools);
    this.current = out;
    if (this.sock.destroyed) queueMicrotask(() => out.lost());
    else this.sock.write(frame(FRAME.OPEN, codec().open.encode(req)));
    return out;
  }

  onClose(fn: () => void): void {
    this.closed.push(fn);
  }

  /** Ends the connection after what is queued (an aborted op's STATUS above all) has been sent. */
  close(): void {
    if (this.sock.destroyed) return;
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 1000).unref();
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
 * same machine; each admitted connection goes to `onConnection`. Admission: at most `maxConnections` at a time, and
 * a HELLO (with the generation's link key's MAC when the run has a secret) within `helloTimeoutMs`.
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
    private readonly onConnection: (c: SuccessorConnection) => void,
  ) {}

  /** `port` 0 = any free port; a taken port rejects with a message naming it. */
  static async listen(
    host: string, auth: DataServerAuth, onConnection: (c: SuccessorConnection) => void, unixSocket = true, port = 0,
  ): Promise<DataServer> {
    const d = new DataServer(auth, onConnection);
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
  private refuse(sock: net.Socket, why: string, reply?: CollectiveStatus): void {
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
    const keyed = !!this.auth.keyFor;
    const serverNonce = keyed ? newNonce() : undefined;
    let state: 'hello' | 'checking' | 'admitted' = 'hello';
    const helloTimeoutMs = this.auth.helloTimeoutMs ?? 5000;
    const helloTimer = setTimeout(() => {
      if (state !== 'admitted') this.refuse(sock, `no HELLO within ${helloTimeoutMs} ms`);
    }, helloTimeoutMs);
    helloTimer.unref();
    // After its HELLO a successor sends nothing: any frame from it is a protocol error.
    const reader = new FrameReader(
      (t) => (state === 'hello' && t === FRAME.HELLO ? MAX_HELLO_BYTES : -1),
      (_type, body) => {
        state = 'checking';
        const h = codec().hello.decode(body);
        const fields: HelloFields = {
          jobId: this.auth.jobId, generation: Number(h.generation), rank: h.from_rank, serverNonce: serverNonce ?? Buffer.alloc(0), clientNonce: Buffer.from(h.nonce),
        };
        const mac = Buffer.from(h.mac);
        if (h.job_id !== this.auth.jobId) {
          this.refuse(sock, 'HELLO for another job', { code: 'precondition', details: 'data link: HELLO for another job' });
          return;
        }
        const admit = (key?: RunSecret) => {
          if (sock.destroyed) return;
          if (key && !checkHelloMac(key, fields, mac)) {
            this.refuse(sock, 'HELLO without a valid MAC', { code: 'unauthenticated', details: 'data link: HELLO not authenticated' });
            return;
          }
          clearTimeout(helloTimer);
          state = 'admitted';
          if (key) sock.write(frame(FRAME.WELCOME, codec().welcome.encode({ mac: welcomeMac(key, fields) })));
          this.onConnection(new SuccessorConnection(fields.generation, fields.rank, sock, this.pools));
        };
        if (!this.auth.keyFor) return admit();
        this.auth.keyFor(fields.generation).then(admit, (e: Error) => {
          if (!sock.destroyed) this.refuse(sock, `HELLO refused: ${e.message}`, { code: 'precondition', details: `data link: ${e.message}` });
        });
      },
    );
    sock.on('data', (b: Buffer) => {
      // A refused connection is closing with its STATUS queued: what it sends meanwhile must not cut that short.
      if (sock.destroyed || sock.writableEnded) return;
      try {
        reader.feed(b);
      } catch (e) {
        if (state !== 'admitted') this.refuse(sock, `bad frame before HELLO: ${(e as Error).message}`);
        else sock.destroy(new Error(`bad frame from ${sock.remoteAddress}:${sock.remotePort}: ${(e as Error).message}`));
      }
    });
    sock.on('error', () => {}); // 'close' follows
    sock.on('close', () => {
      clearTimeout(helloTimer);
      this.sockets.delete(sock);
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
