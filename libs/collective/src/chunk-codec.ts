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

/**
 * Serialize a chunk. Returns a view of a module-level scratch buffer, valid until the next call (grpc-js copies it
 * before returning from write's serialization step).
 */
export function encodeChunk(c: OutChunk): Buffer {
  const wire = WIRE_NAME[c.wire];
  if (wire === undefined) throw new Error(`unknown wire code ${c.wire}`);
  const dataBytes = c.count * (wire === 'fp32' ? 4 : 2);
  const job = jobIdBytes(c.jobId);
  let head =
    1 + varintLen(job.length) + job.length +
    1 + varintLen(c.generation) + 1 + varintLen(c.seq) + 1 + varintLen(c.phase) + 1 + varintLen(c.step) +
    1 + varintLen(c.segment) + 1 + varintLen(c.index) + 1 + varintLen(c.offset) + 1 + varintLen(c.count) +
    1 + varintLen(c.wire) + 2 /* pad tag + len */ + 1 + varintLen(dataBytes);
  // grpc-js hands the decoder the message at byte 5 of a fresh (8-aligned) allocation, so a head length of 3 mod 4
  // puts the payload on a 4-byte boundary there.
  const pad = (3 - (head % 4) + 4) % 4;
  head += pad;
  const total = head + dataBytes;
  // The message starts at scratch byte 1 so the payload is 4-byte aligned in the scratch too (16-bit encode view).
  if (scratch.length < total + 1) scratch = Buffer.allocUnsafeSlow(Math.max(total + 1, scratch.length * 2));
  const b = scratch;
  head += 1;
  let p = 1;
  b[p++] = 0x0a;
  p = putVarint(b, p, job.length);
  job.copy(b, p);
  p += job.length;
  b[p++] = 0x10; p = putVarint(b, p, c.generation);
  b[p++] = 0x18; p = putVarint(b, p, c.seq);
  b[p++] = 0x20; p = putVarint(b, p, c.phase);
  b[p++] = 0x28; p = putVarint(b, p, c.step);
  b[p++] = 0x30; p = putVarint(b, p, c.segment);
  b[p++] = 0x38; p = putVarint(b, p, c.index);
  b[p++] = 0x40; p = putVarint(b, p, c.offset);
  b[p++] = 0x48; p = putVarint(b, p, c.count);
  b[p++] = 0x50; p = putVarint(b, p, c.wire);
  b[p++] = 0x72; b[p++] = pad;
  b.fill(0, p, p + pad);
  p += pad;
  b[p++] = 0x7a; p = putVarint(b, p, dataBytes);
  if (p !== head || p % 4 !== 0) throw new Error(`chunk header length mismatch ${p} != ${head}`);
  if (c.count > 0) {
    const src = c.src;
    if (c.offset + c.count > src.length) throw new Error(`chunk [${c.offset}, +${c.count}) outside buffer of ${src.length}`);
    if (wire === 'fp32') {
      b.set(new Uint8Array(src.buffer, src.byteOffset + c.offset * 4, dataBytes), p);
    } else {
      // p is a multiple of 4 from the scratch start (byteOffset 0), so the Uint16Array view is aligned.
      encode16(new Uint32Array(src.buffer, src.byteOffset + c.offset * 4, c.count), new Uint16Array(b.buffer, b.byteOffset + p, c.count), wire);
    }
  }
  return b.subarray(1, total + 1);
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

/** The payload of a received chunk as `count` elements of the wire type; copies only if it is misaligned. */
export function payloadView(c: InChunk): Float32Array | Uint16Array {
  const wide = c.wire === 0;
  const size = wide ? 4 : 2;
  if (c.dataBytes !== c.count * size) {
    throw new Error(`chunk payload has ${c.dataBytes} bytes, expected ${c.count} x ${size}`);
  }
  const abs = c.buf.byteOffset + c.dataStart;
  if (abs % size === 0) {
    return wide ? new Float32Array(c.buf.buffer, abs, c.count) : new Uint16Array(c.buf.buffer, abs, c.count);
  }
  if (alignScratch.byteLength < c.dataBytes) alignScratch = new ArrayBuffer(Math.max(c.dataBytes, alignScratch.byteLength * 2));
  new Uint8Array(alignScratch, 0, c.dataBytes).set(c.buf.subarray(c.dataStart, c.dataStart + c.dataBytes));
  return wide ? new Float32Array(alignScratch, 0, c.count) : new Uint16Array(alignScratch, 0, c.count);
}
