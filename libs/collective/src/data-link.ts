// The collective's bulk data channel (transport "tcp"): one plain socket connection per generation between a rank
// and its successor, carrying every op's stream as length-prefixed frames (data-frames.ts; the protocol is in
// protos/collective.proto, "The bulk data channel"). Why not gRPC for the bytes: grpc-js runs on Node's http2, which
// moves ~0.5 GB/s one way on loopback on the CI box, while two Node processes move 1.4-1.8 GB/s each way over plain
// TCP and ~2 GB/s over Unix sockets (bench/tcp-baseline.ts). Each DataServer listens on a TCP port and, on Linux, an
// abstract Unix socket that a successor on the same machine uses instead; the coordinator's JoinReply lists both.
//
// Roles: the successor (DataLink) connects to its predecessor's DataServer once per generation and proves it holds
// the generation's link key (CHALLENGE → HELLO with an HMAC → WELCOME with the predecessor's HMAC, @gan/auth's
// data-handshake); the server hands the admitted connection to the collective as a SuccessorConnection, on which the
// predecessor then pushes, op after op, OPEN + CHUNKs + STATUS. Nothing travels upstream after the HELLO: a
// successor that has not reached an op yet stops reading at its OPEN (TCP's window then holds the predecessor back),
// and one that gives up on an op closes the connection; its next op connects afresh.
//
// Hot path: fp32 payloads are written straight from the op's Float32Array (no copy in JS; the kernel copies);
// 16-bit payloads are encoded into buffers from a small free list. The receiver's `onread` buffer is, read by read,
// exactly the missing part of the current frame in a reused 4-byte-aligned scratch, so the kernel copies each body
// into place: no payload copy in JS and no payload-sized allocation per chunk. That needs the receiving socket to be
// a client socket (Node's server sockets take no `onread`), which is why the receiver dials.
// This file: the successor's end (DataLink); data-server.ts: the predecessor's end.
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import net from 'node:net';
import tls from 'node:tls';
import { checkWelcomeMac, helloMac, newNonce, type HelloFields, type RunSecret } from '@gan/auth';
import type { PullRequest, PullRequest__Output } from '@gan/proto';
import { decodeChunk } from './chunk-codec';
import { CHUNK_HEAD_ROOM, codec, decodeStatus, FRAME, frame, FrameReader, MAX_CONTROL_BYTES, } from './data-frames';
import type { CollectiveStatus } from './errors';
import { atName } from './data-server';
import { shapeDiff } from './op-shape';
import type { PredecessorHandlers, PredecessorLink } from './ring-engine';

export { atName, DataServer, hostId, SuccessorConnection, type DataServerAuth, type OutStream } from './data-server';

/** What the successor's side of one op reports: the ring engine's handlers for its predecessor's stream. */
export type InHandlers = PredecessorHandlers;

/** The successor's side of one op; cancel() gives up on it (closes the connection). */
export type InStream = PredecessorLink;

export interface LinkOptions {
  /** TCP host and port, or `path`: a Unix socket (Linux abstract names start with a NUL) */
  host?: string;
  port?: number;
  path?: string;
  jobId: string;
  /** this (the successor's) rank */
  fromRank: number;
  /** the generation this connection serves (the handshake binds it, with fromRank) */
  generation: number;
  /** the generation's link key: answer the predecessor's challenge and check its proof; absent with --insecure */
  key?: RunSecret;
  /** TLS client options (mutual TLS) when the run uses TLS */
  tls?: tls.ConnectionOptions;
  /** connect + handshake deadline */
  timeoutMs: number;
  /** largest chunk payload of an op, fp32 bytes (both ends use the same chunk size); a larger frame is refused */
  maxChunkBytes: number;
}

/** An op waiting for its stream, or receiving it. */
interface Receiving {
  req: PullRequest;
  h: InHandlers;
}

/**
 * The successor's connection to its predecessor's DataServer, for one generation: the predecessor pushes the
 * streams of its ops down it in order, and each of this rank's ops takes the next one with stream().
 */
export class DataLink {
  /** an OPEN that came before this rank reached its op: reading is held until then */
  private heldOpen?: PullRequest__Output;
  private wanted?: Receiving;
  private active?: Receiving;
  /** frames of a stream nobody here waits for any more (an op this rank gave up on), skipped to its STATUS */
  private skipping = false;
  /** TLS only: bytes read past a held OPEN */
  private backlog?: Uint8Array;
  private closedWhy?: string;
  private readonly reader: FrameReader;
  private readonly sock: net.Socket;
  private readonly usesOnread: boolean;
  /** set until the handshake is over: where CHALLENGE, WELCOME and a refusal go */
  private handshake?: { onFrame(type: number, body: Buffer): void };

  private constructor(readonly target: string, o: LinkOptions) {
    this.reader = new FrameReader(
      (t) => (this.handshake ? (t === FRAME.CHALLENGE || t === FRAME.WELCOME || t === FRAME.STATUS ? MAX_CONTROL_BYTES : -1)
        : t === FRAME.CHUNK ? o.maxChunkBytes + CHUNK_HEAD_ROOM : t === FRAME.OPEN || t === FRAME.STATUS ? MAX_CONTROL_BYTES : -1),
      (type, body) => (this.handshake ? this.handshake.onFrame(type, body) : this.onFrame(type, body)),
    );
    const where = o.path !== undefined ? { path: o.path } : { host: o.host!, port: o.port! };
    this.usesOnread = !o.tls;
    if (o.tls) {
      // TLS sockets have no `onread`: their records are decrypted into Node's buffers, so the reader copies.
      this.sock = tls.connect({ ...where, ...o.tls, ...(o.path !== undefined ? { servername: '' } : {}) });
      this.sock.setNoDelay?.(true);
      this.sock.on('data', (b: Buffer) => this.feed(b));
    } else {
      this.sock = net.connect({
        ...where, noDelay: true,
        // Each read lands where its bytes belong (FrameReader.region): the kernel copies chunk bodies into place.
        // The socket asks for its first buffer here, so the reader must exist already. Returning false pauses.
        onread: {
          buffer: () => this.reader.region(),
          callback: (n: number) => {
            this.advance(n);
            return !this.reader.held;
          },
        },
      });
    }
  }

  get alive(): boolean {
    return !this.closedWhy && !this.sock.destroyed;
  }

  /** Connects and completes the handshake (HELLO; with a key, CHALLENGE → HELLO → WELCOME) within o.timeoutMs. */
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
      const timer = setTimeout(() => fail(`no ${o.key ? 'authenticated ' : ''}connection within ${o.timeoutMs} ms`), o.timeoutMs);
      const clientNonce = newNonce();
      let fields: HelloFields | undefined;
      const hello = (serverNonce: Buffer) => {
        fields = { jobId: o.jobId, generation: o.generation, rank: o.fromRank, serverNonce, clientNonce };
        sock.write(frame(FRAME.HELLO, codec().hello.encode({
          job_id: o.jobId, from_rank: o.fromRank, generation: String(o.generation), nonce: clientNonce,
          mac: o.key ? helloMac(o.key, fields) : Buffer.alloc(0),
        })));
      };
      link.handshake = {
        onFrame: (type, body) => {
          if (type === FRAME.STATUS) fail(`${target} refused the data connection: ${decodeStatus(body).status.details}`);
          else if (type === FRAME.CHALLENGE && o.key && !fields) {
            // A copy: decoded bytes are views of the reader's scratch, which the next frame overwrites.
            hello(Buffer.from(codec().challenge.decode(body).nonce));
          } else if (type === FRAME.WELCOME && o.key && fields) {
            if (checkWelcomeMac(o.key, fields, codec().welcome.decode(body).mac)) ok();
            else fail(`${target} did not prove it holds the generation's link key`);
          } else fail(`${target} sent frame type ${type} during the handshake`);
        },
      };
      sock.once(o.tls ? 'secureConnect' : 'connect', () => {
        if (!o.key) {
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

  /**
   * Receive the stream of the op `req` describes (this rank's view: from_rank = this rank, to_rank = the
   * predecessor): its chunks and final status go to h. The predecessor's OPEN must describe the same op.
   */
  stream(req: PullRequest, h: InHandlers): InStream {
    const cancel = { cancel: () => this.close('cancelled') };
    if (!this.alive) {
      const why = this.closedWhy ?? 'connection closed';
      queueMicrotask(() => h.error({ code: 'unavailable', details: `data connection to ${this.target}: ${why}` }));
      return cancel;
    }
    if (this.wanted) throw new Error(`DataLink.stream: op #${this.wanted.req.seq} still waits for its stream`);
    if (this.active) {
      // The previous op is over here (it had every chunk) before its STATUS came: the rest of its stream is skipped.
      this.active = undefined;
      this.skipping = true;
    }
    this.wanted = { req, h };
    const open = this.heldOpen;
    if (open) {
      this.heldOpen = undefined;
      this.match(open);
      this.resume();
    }
    return cancel;
  }

  close(why = 'closed'): void {
    this.closedWhy ??= why;
    this.wanted = this.active = undefined;
    this.sock.destroy();
  }

  private resume(): void {
    if (!this.alive || !this.reader.held) return;
    this.reader.held = false;
    if (this.usesOnread) {
      this.sock.resume();
      return;
    }
    const b = this.backlog;
    this.backlog = undefined;
    if (b?.length) this.feed(b);
    if (!this.reader.held) this.sock.resume();
  }

  private feed(b: Uint8Array): void {
    if (this.closedWhy) return;
    try {
      const rest = this.reader.feed(b);
      if (this.reader.held) {
        // TLS: keep what was read past the held frame, and stop 'data' events until the op comes.
        this.backlog = rest.length ? Buffer.from(rest) : undefined;
        this.sock.pause();
      }
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
    this.fail({ code: 'internal', details: `bad frame from ${this.target}: ${e.message}` });
  }

  /** Ends the connection and tells the op that waits on it, or receives from it. */
  private fail(s: CollectiveStatus): void {
    const r = this.active ?? this.wanted;
    this.close(s.details);
    r?.h.error(s);
  }

  /** An OPEN met the op waiting for a stream. */
  private match(open: PullRequest__Output): void {
    const w = this.wanted!;
    const seq = Number(open.seq);
    const mine = Number(w.req.seq);
    if (seq < mine) {
      this.skipping = true; // the stream of an op this rank has given up on: skip it, wait for the next OPEN
      return;
    }
    if (seq > mine || Number(open.generation) !== Number(w.req.generation) || open.job_id !== w.req.job_id) {
      this.fail({ code: 'precondition', details: `${this.target} sent op #${seq} of generation ${open.generation} while this rank waits for op #${mine} of generation ${w.req.generation}` });
      return;
    }
    const diffs = shapeDiff(open, w.req);
    if (diffs.length) {
      this.fail({ code: 'precondition', details: `predecessor is in a different op: ${diffs.join(', ')}` });
      return;
    }
    this.wanted = undefined;
    this.active = w;
  }

  private onFrame(type: number, body: Buffer): void {
    if (type === FRAME.CHUNK) {
      // Every chunk goes to the op receiving, whose tag check refuses anything that is not its own.
      if (this.active) this.active.h.data(decodeChunk(body));
      else if (!this.skipping) throw new Error('a chunk arrived outside any op stream');
      return;
    }
    if (type === FRAME.OPEN) {
      if (this.active || this.heldOpen) throw new Error('an OPEN arrived before the previous op stream ended');
      const open = codec().open.decode(body);
      this.skipping = false;
      if (this.wanted) this.match(open);
      else {
        this.heldOpen = open;
        this.reader.held = true;
      }
      return;
    }
    const { seq, status: s } = decodeStatus(body);
    if (seq === 0) {
      this.fail(s); // about the connection itself
      return;
    }
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const a = this.active;
    if (!a || seq !== Number(a.req.seq)) throw new Error(`a STATUS for op #${seq} arrived outside its stream`);
    this.active = undefined;
    if (s.code === 'ok') a.h.end();
    else a.h.error(s);
  }

  private lost(why: string): void {
    const r = this.active ?? this.wanted;
    if (this.closedWhy && !r) return;
    this.closedWhy ??= why;
    this.active = this.wanted = undefined;
    r?.h.error({ code: 'unavailable', details: `data connection to ${this.target}: ${why}` });
  }
}
