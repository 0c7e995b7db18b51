// Hand-written protobuf codec for gan.collective.v1.Chunk (protos/collective.proto), used as the grpc-js
// serializer of the Pull stream. The payload is never protobuf-encoded by a library: the encoder writes the tag
// fields and then the elements straight from the op's Float32Array into one reused scratch buffer (grpc-js copies it
// synchronously into its framed message); the decoder returns a zero-copy view of the received bytes.
// The bytes are ordinary protobuf (fields 1..10, 14 pad, 15 data), so any protobuf decoder reads them.
import { encode16, type WireFormat } from './wire-format';

export const PHASE = { REDUCE_SCATTER: 1, GATHER: 2, CHAIN: 3 } as const;
export const WIRE_CODE: Record<WireFormat, number> = { fp32: 0, fp16: 1, bf16: 2 };
export const WIRE_NAME: WireFormat[] = ['fp32', 'fp16', 'bf16'];

/** The tag every chunk carries; the receiver checks each field against the op it is in. */
export interface ChunkTag {
  jobId: string;
  generation: number;
  seq: number;
  phase: number;
  step: number;
  segment: number;
  index: number;
  /** first element of the chunk in the op's buffer */
  offset: number;
  /** elements */
  count: number;
  /** WIRE_CODE */
  wire: number;
}

/** What a sender passes to call.write(): the tag plus the buffer the elements [offset, offset+count) come from. */
export interface OutChunk extends ChunkTag {
  src: Float32Array;
}

/** A received chunk: the tag plus where its payload lies inside `buf` (no copy made). */
export interface InChunk extends ChunkTag {
  buf: Buffer;
  dataStart: number;
  dataBytes: number;
}

let scratch = Buffer.allocUnsafeSlow(1 << 16);
const jobIdCache = new Map<string, Buffer>();

function varintLen(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function putVarint(b: Buffer, pos: number, v: number): number {
  // Division rather than >>> so values up to 2^53 (offsets, generations) encode correctly.
  while (v >= 128) {
    b[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  b[pos++] = v;
  return pos;
}

function jobIdBytes(jobId: string): Buffer {
  let b = jobIdCache.get(jobId);
  if (!b) {
    b = Buffer.from(jobId, 'utf8');
    if (jobIdCache.size > 64) jobIdCache.clear();
    jobIdCache.set(jobId, b);
  }
  return b;
}

/** Bytes before the payload (fields 1..10, pad, the data field's key and length), padded to 3 mod 4. */
function headLayout(c: OutChunk): { job: Buffer; dataBytes: number; pad: number; head: number } {
  const wire = WIRE_NAME[c.wire];
  if (wire === undefined) throw new Error(`unknown wire code ${c.wire}`);
  const dataBytes = c.count * (wire === 'fp32' ? 4 : 2);
  const job = jobIdBytes(c.jobId);
  const bare =
    1 + varintLen(job.length) + job.length +
    1 + varintLen(c.generation) + 1 + varintLen(c.seq) + 1 + varintLen(c.phase) + 1 + varintLen(c.step) +
    1 + varintLen(c.segment) + 1 + varintLen(c.index) + 1 + varintLen(c.offset) + 1 + varintLen(c.count) +
    1 + varintLen(c.wire) + 2 /* pad tag + len */ + 1 + varintLen(dataBytes);
  // Both framings put 5 bytes before the message (grpc-js's length prefix, the data link's frame prefix), so a
  // head length of 3 mod 4 puts the payload on a 4-byte boundary of the frame.
  const pad = (3 - (bare % 4) + 4) % 4;
  return { job, dataBytes, pad, head: bare + pad };
}

/** Write the head at b[p..]; returns the payload's position. */
function writeHead(b: Buffer, p: number, c: OutChunk, l: ReturnType<typeof headLayout>): number {
  b[p++] = 0x0a;
  p = putVarint(b, p, l.job.length);
  l.job.copy(b, p);
  p += l.job.length;
  b[p++] = 0x10; p = putVarint(b, p, c.generation);
  b[p++] = 0x18; p = putVarint(b, p, c.seq);
  b[p++] = 0x20; p = putVarint(b, p, c.phase);
  b[p++] = 0x28; p = putVarint(b, p, c.step);
  b[p++] = 0x30; p = putVarint(b, p, c.segment);
  b[p++] = 0x38; p = putVarint(b, p, c.index);
  b[p++] = 0x40; p = putVarint(b, p, c.offset);
  b[p++] = 0x48; p = putVarint(b, p, c.count);
  b[p++] = 0x50; p = putVarint(b, p, c.wire);
  b[p++] = 0x72; b[p++] = l.pad;
  b.fill(0, p, p + l.pad);
  p += l.pad;
  b[p++] = 0x7a; p = putVarint(b, p, l.dataBytes);
  return p;
}

function checkRange(c: OutChunk): void {
  if (c.offset + c.count > c.src.length) throw new Error(`chunk [${c.offset}, +${c.count}) outside buffer of ${c.src.length}`);
}

/** Encodes the chunk's elements into `dst` (2-byte aligned, `count` elements) in its 16-bit wire format. */
function encodePayload16(c: OutChunk, dst: Uint16Array): void {
  encode16(new Uint32Array(c.src.buffer, c.src.byteOffset + c.offset * 4, c.count), dst, WIRE_NAME[c.wire] as 'fp16' | 'bf16');
}

/**
 * Serialize a chunk. Returns a view of a module-level scratch buffer, valid until the next call (grpc-js copies it
 * before returning from write's serialization step).
 */
export function encodeChunk(c: OutChunk): Buffer {
  const l = headLayout(c);
  const total = l.head + l.dataBytes;
  // The message starts at scratch byte 1 so the payload is 4-byte aligned in the scratch too (16-bit encode view).
  if (scratch.length < total + 1) scratch = Buffer.allocUnsafeSlow(Math.max(total + 1, scratch.length * 2));
  const b = scratch;
  const p = writeHead(b, 1, c, l);
  if (p !== l.head + 1 || p % 4 !== 0) throw new Error(`chunk header length mismatch ${p} != ${l.head + 1}`);
  if (c.count > 0) {
    checkRange(c);
    const src = c.src;
    if (l.dataBytes === c.count * 4) {
      b.set(new Uint8Array(src.buffer, src.byteOffset + c.offset * 4, l.dataBytes), p);
    } else {
      // p is a multiple of 4 from the scratch start (byteOffset 0), so the Uint16Array view is aligned.
      encodePayload16(c, new Uint16Array(b.buffer, b.byteOffset + p, c.count));
    }
  }
  return b.subarray(1, total + 1);
}

/** Frame prefix of the data link: [u32 LE body length][u8 frame type]. */
export const FRAME_PREFIX = 5;
export const FRAME = { HELLO: 1, OPEN: 2, CHUNK: 3, STATUS: 4, CHALLENGE: 5, WELCOME: 6 } as const;

/** Where encodeChunkFrame puts what it writes; both may hand out pooled buffers longer than asked. */
export interface FrameBuffers {
  /** for the frame prefix + message head (tens of bytes) */
  head: (bytes: number) => Buffer;
  /** for a 16-bit payload, encoded from the op's fp32 elements (2-byte aligned) */
  payload16: (bytes: number) => Buffer;
}

/**
 * A chunk as a data-link frame, in two parts so the fp32 payload is never copied: `head` (frame prefix + message
 * head, written into a buffer from `bufs.head`) and `payload` (a view of the op's buffer for fp32; for 16-bit, a
 * buffer from `bufs.payload16` encoded into). The concatenation is one CHUNK frame whose body is the same protobuf
 * Chunk the Pull stream carries, payload 4-byte aligned from the frame start. Both returned buffers are exact-length
 * views; the caller gives pooled ones back once the write completed.
 */
export function encodeChunkFrame(c: OutChunk, bufs: FrameBuffers): { head: Buffer; payload: Buffer | null } {
  const l = headLayout(c);
  const headBytes = FRAME_PREFIX + l.head;
  const hb = bufs.head(headBytes);
  if (hb.length < headBytes) throw new Error('encodeChunkFrame: head buffer too short');
  const head = hb.length === headBytes ? hb : hb.subarray(0, headBytes);
  head.writeUInt32LE(l.head + l.dataBytes, 0);
  head[4] = FRAME.CHUNK;
  const p = writeHead(head, FRAME_PREFIX, c, l);
  if (p !== headBytes || p % 4 !== 0) throw new Error(`chunk frame head length mismatch ${p} != ${headBytes}`);
  if (c.count === 0) return { head, payload: null };
  checkRange(c);
  const src = c.src;
  if (c.wire === 0) return { head, payload: Buffer.from(src.buffer, src.byteOffset + c.offset * 4, l.dataBytes) };
  const out = bufs.payload16(l.dataBytes);
  if (out.byteOffset % 2 !== 0 || out.length < l.dataBytes) throw new Error('encodeChunkFrame: 16-bit buffer misaligned or short');
  encodePayload16(c, new Uint16Array(out.buffer, out.byteOffset, c.count));
  return { head, payload: out.subarray(0, l.dataBytes) };
}

function readVarint(b: Buffer, pos: number, end: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (pos >= end) throw new Error('truncated varint in chunk');
    const x = b[pos++];
    v += (x & 127) * mul;
    if (x < 128) return [v, pos];
    mul *= 128;
    if (mul > 2 ** 63) throw new Error('varint too long in chunk');
  }
}

/** Parse a serialized Chunk (any field order, unknown fields skipped). The payload stays in `b`. */
export function decodeChunk(b: Buffer): InChunk {
  const out: InChunk = {
    jobId: '', generation: 0, seq: 0, phase: 0, step: 0, segment: 0, index: 0, offset: 0, count: 0, wire: 0,
    buf: b, dataStart: 0, dataBytes: 0,
  };
  const end = b.length;
  let p = 0;
  while (p < end) {
    let key: number;
    [key, p] = readVarint(b, p, end);
    const field = Math.floor(key / 8);
    const type = key & 7;
    if (type === 0) {
      let v: number;
      [v, p] = readVarint(b, p, end);
      switch (field) {
        case 2: out.generation = v; break;
        case 3: out.seq = v; break;
        case 4: out.phase = v; break;
        case 5: out.step = v; break;
        case 6: out.segment = v; break;
        case 7: out.index = v; break;
        case 8: out.offset = v; break;
        case 9: out.count = v; break;
        case 10: out.wire = v; break;
        default: break;
      }
    } else if (type === 2) {
      let len: number;
      [len, p] = readVarint(b, p, end);
      if (p + len > end) throw new Error(`chunk field ${field} overruns the message`);
      if (field === 1) out.jobId = b.toString('utf8', p, p + len);
      else if (field === 15) {
        out.dataStart = p;
        out.dataBytes = len;
      }
      p += len;
    } else if (type === 1) p += 8;
    else if (type === 5) p += 4;
    else throw new Error(`unsupported protobuf wire type ${type} in chunk`);
  }
  return out;
}

let alignScratch = new ArrayBuffer(1 << 16);

/** Why a received chunk's payload does not hold `count` elements of its wire type, or null when it does. */
export function payloadSizeError(c: InChunk): string | null {
  const size = c.wire === 0 ? 4 : 2;
  return c.dataBytes === c.count * size ? null : `chunk payload has ${c.dataBytes} bytes, expected ${c.count} x ${size}`;
}

/** The payload of a received chunk as `count` elements of the wire type; copies only if it is misaligned. */
export function payloadView(c: InChunk): Float32Array | Uint16Array {
  const bad = payloadSizeError(c);
  if (bad) throw new Error(bad);
  const wide = c.wire === 0;
  const size = wide ? 4 : 2;
  const abs = c.buf.byteOffset + c.dataStart;
  if (abs % size === 0) {
    return wide ? new Float32Array(c.buf.buffer, abs, c.count) : new Uint16Array(c.buf.buffer, abs, c.count);
  }
  if (alignScratch.byteLength < c.dataBytes) alignScratch = new ArrayBuffer(Math.max(c.dataBytes, alignScratch.byteLength * 2));
  new Uint8Array(alignScratch, 0, c.dataBytes).set(c.buf.subarray(c.dataStart, c.dataStart + c.dataBytes));
  return wide ? new Float32Array(alignScratch, 0, c.count) : new Uint16Array(alignScratch, 0, c.count);
}
