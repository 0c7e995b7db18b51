// The data link's framing: [u32 little-endian body length][u8 FrameType][body], the protobuf codecs of its control
// frames, the incremental FrameReader both ends parse with, and the free list of encode buffers. What the frames
// mean, and in which order they travel, is in protos/collective.proto ("The bulk data channel").
// Not run directly; tests: node tools/run-tests.mjs libs/collective data-link
import {
  messageCodec, type DataChallenge, type DataChallenge__Output, type DataHello, type DataHello__Output, type DataWelcome,
  type DataWelcome__Output, type OpStatus, type OpStatus__Output, type PullRequest, type PullRequest__Output,
} from '@gan/proto';
import { FRAME_PREFIX, FRAME } from './chunk-codec';
import type { CollectiveStatus } from './errors';
import { fromWireCode, toWireCode } from './wire-status';

const PKG = 'gan.collective.v1';
let codecs: ReturnType<typeof makeCodecs> | undefined;
function makeCodecs() {
  return {
    hello: messageCodec<DataHello, DataHello__Output>('collective', `${PKG}.DataHello`),
    challenge: messageCodec<DataChallenge, DataChallenge__Output>('collective', `${PKG}.DataChallenge`),
    welcome: messageCodec<DataWelcome, DataWelcome__Output>('collective', `${PKG}.DataWelcome`),
    open: messageCodec<PullRequest, PullRequest__Output>('collective', `${PKG}.PullRequest`),
    status: messageCodec<OpStatus, OpStatus__Output>('collective', `${PKG}.OpStatus`),
  };
}
/** The protobuf codecs of the control frames, loaded on first use. */
export const codec = () => (codecs ??= makeCodecs());

/** Largest control frame (HELLO, OPEN, STATUS, CHALLENGE, WELCOME); a larger length prefix is a protocol error. */
export const MAX_CONTROL_BYTES = 1 << 16;
/** Room for a chunk's head (tag fields, job id, padding) on top of its payload. */
export const CHUNK_HEAD_ROOM = 4096;
/** Before its HELLO is accepted a connection may send only this much: a HELLO is under 200 bytes. */
export const MAX_HELLO_BYTES = 1024;

export { FRAME };

export function frame(type: number, body: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(FRAME_PREFIX + body.length);
  b.writeUInt32LE(body.length, 0);
  b[4] = type;
  b.set(body, FRAME_PREFIX);
  return b;
}

/** A STATUS frame: the collective's code as the number the wire carries (wire-status.ts). */
export function statusFrame(seq: number, s: CollectiveStatus): Buffer {
  return frame(FRAME.STATUS, codec().status.encode({
    seq: String(seq), code: toWireCode(s.code), details: s.details, origin_rank: s.origin ? s.origin.rank : -1, origin_address: s.origin?.address ?? '',
  }));
}

export function decodeStatus(body: Buffer): { seq: number; status: CollectiveStatus } {
  const s = codec().status.decode(body);
  return {
    seq: Number(s.seq),
    status: { code: fromWireCode(s.code), details: s.details, ...(s.origin_rank >= 0 ? { origin: { rank: s.origin_rank, address: s.origin_address } } : {}) },
  };
}

/**
 * Incremental frame parser. Bytes land either straight in `region()` (the part of the current frame still missing:
 * the 5-byte prefix, or the rest of the body in a reused scratch) followed by `advance(n)` — the receive path, used
 * as the socket's `onread` buffer so the kernel copies each frame's body into place with no copy in JS — or are
 * copied in by `feed`. Complete frames go to `onFrame` with the body as a view of the scratch, valid only during
 * the call, placed so a CHUNK's payload is 4-byte aligned. `onFrame` may hold the reader (`held = true`): `feed`
 * then stops after that frame and returns what it did not consume.
 */
export class FrameReader {
  held = false;
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
      if (max < 0) throw new Error(`unexpected frame type ${this.type}`);
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

  /** Copies src in frame by frame; returns the bytes not consumed because a frame held the reader (else empty). */
  feed(src: Uint8Array): Uint8Array {
    let p = 0;
    while (p < src.length && !this.held) {
      const r = this.region();
      const k = Math.min(r.length, src.length - p);
      r.set(src.subarray(p, p + k));
      p += k;
      this.advance(k);
    }
    return src.subarray(p);
  }
}

/** Free list of encode buffers for 16-bit chunks: one per chunk in flight, returned when the write completes. */
export class BufferPool {
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
