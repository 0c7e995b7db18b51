// The safetensors file format (https://github.com/huggingface/safetensors), written atomically and read with full
// validation. Layout: u64 little-endian header length N | N bytes of JSON header, space-padded so the data starts
// 8-byte aligned | the tensors' raw little-endian bytes, contiguous. The header maps each tensor name to
// {dtype, shape, data_offsets: [begin, end]} (relative to the data start) and holds string→string
// `__metadata__`, to which we add `sha256` of the data section so bit rot and torn writes are detected.
// Tested by libs/checkpoint/src/safetensors.test.ts (`node tools/run-tests.mjs libs/checkpoint`).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { writeFileAtomic } from './atomic-write';

/** One-line error naming the checkpoint file and what is wrong with it. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    message: string,
    /** The file (or directory) concerned. */
    readonly path: string,
  ) {
    super(message);
  }
}

// I64 is PyTorch's dtype for BatchNorm's num_batches_tracked (torch-layout exports); it reads as a BigInt64Array.
export type Dtype = 'F32' | 'I32' | 'I64' | 'F64' | 'U8';
export type TensorData = Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array;

/** A named tensor; `data` is row-major with `shape.reduce(*)` elements (an empty shape is a scalar). */
export interface NamedTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

export interface StoredTensor {
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

/** Metadata key holding the sha256 (hex) of the data section. */
export const CHECKSUM_KEY = 'sha256';

const DTYPES: Record<Dtype, { bytes: number; ctor: new (n: number) => TensorData }> = {
  F64: { bytes: 8, ctor: Float64Array },
  I64: { bytes: 8, ctor: BigInt64Array },
  F32: { bytes: 4, ctor: Float32Array },
  I32: { bytes: 4, ctor: Int32Array },
  U8: { bytes: 1, ctor: Uint8Array },
};

// The header length is a u64; anything above this is a corrupt or hostile file, not a header (same cap as the
// reference implementation).
const MAX_HEADER_BYTES = 100_000_000;

// Typed arrays are written and read as raw bytes, which is little-endian only on little-endian hosts.
function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') throw new Error('@gan/checkpoint supports little-endian hosts only');
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** Throws (a plain Error naming the tensor) when a tensor to be written is inconsistent. */
function checkTensor(t: NamedTensor): void {
  const spec = DTYPES[t.dtype];
  if (!spec) throw new Error(`tensor '${t.name}' has unsupported dtype ${JSON.stringify(t.dtype)} (expected F32|I32|I64|F64|U8)`);
  if (!(t.data instanceof spec.ctor)) {
    throw new Error(`tensor '${t.name}' is ${t.dtype} but its data is a ${t.data?.constructor?.name ?? typeof t.data}`);
  }
  if (!isShape(t.shape)) throw new Error(`tensor '${t.name}' has invalid shape ${JSON.stringify(t.shape)}`);
  if (elementCount(t.shape) !== t.data.length) {
    throw new Error(`tensor '${t.name}' has shape [${t.shape.join(', ')}] (${elementCount(t.shape)} values) but ${t.data.length} values`);
  }
}

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The header + data chunks of a safetensors file (no I/O). Tensors are laid out largest dtype first, then by name
 * (as the reference implementation does), so every tensor is naturally aligned when the file is memory-mapped.
 */
export function encodeSafetensors(
  tensors: readonly NamedTensor[],
  metadata: Record<string, string> = {},
): Uint8Array[] {
  assertLittleEndian();
  const names = new Set<string>();
  for (const t of tensors) {
    if (typeof t.name !== 'string' || t.name.length === 0) throw new Error('tensor names must be non-empty strings');
    if (t.name === '__metadata__') throw new Error("'__metadata__' is reserved and cannot name a tensor");
    if (names.has(t.name)) throw new Error(`duplicate tensor name '${t.name}'`);
    names.add(t.name);
    checkTensor(t);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`metadata '${k}' must be a string, got ${typeof v}`);
    if (k === CHECKSUM_KEY) throw new Error(`metadata key '${CHECKSUM_KEY}' is reserved for the data checksum`);
  }
  const ordered = [...tensors].sort(
    (a, b) => DTYPES[b.dtype].bytes - DTYPES[a.dtype].bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const hash = createHash('sha256');
  const header: Record<string, unknown> = {};
  const dataChunks: Uint8Array[] = [];
  let offset = 0;
  const entries: [string, unknown][] = [];
  for (const t of ordered) {
    const bytes = bytesOf(t.data);
    entries.push([t.name, { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] }]);
    hash.update(bytes);
    dataChunks.push(bytes);
    offset += bytes.byteLength;
  }
  header.__metadata__ = { ...metadata, [CHECKSUM_KEY]: hash.digest('hex') };
  for (const [k, v] of entries) header[k] = v;
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  const head = Buffer.alloc(8 + padded, 0x20);
  head.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(head, 8);
  return [head, ...dataChunks];
}

/**
 * Writes a safetensors file atomically (temp file in the same directory, fsync, rename, fsync the directory).
 * `metadata` values must be strings; the key 'sha256' is reserved for the data checksum added here.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly NamedTensor[],
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface ReadOptions {
  /** Fail when the file has no sha256 metadata (files we wrote always have one). Default false. */
  requireChecksum?: boolean;
}

/** Parses and validates a whole safetensors file held in memory; `path` only names it in errors. */
export function decodeSafetensors(buf: Uint8Array, path: string, opts: ReadOptions = {}): SafetensorsFile {
  assertLittleEndian();
  const fail = (problem: string): never => {
    throw new CheckpointError(`checkpoint ${path} ${problem}`, path);
  };
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.byteLength < 8) fail(`is truncated: ${view.byteLength} bytes, too short for the 8-byte header length`);
  const headerLen64 = view.readBigUInt64LE(0);
  if (headerLen64 > BigInt(view.byteLength - 8)) {
    fail(`is truncated: header length is ${headerLen64} bytes, file has ${view.byteLength - 8} after the length field`);
  }
  const headerLen = Number(headerLen64);
  if (headerLen > MAX_HEADER_BYTES) fail(`has an implausible header length of ${headerLen} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(view.toString('utf8', 8, 8 + headerLen));
  } catch (e) {
    fail(`has an invalid JSON header: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('has a header that is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = view.byteLength - dataStart;

  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('has __metadata__ that is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`has metadata '${k}' that is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail(`has a header entry '${name}' that is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) {
      fail(`has tensor '${name}' with unsupported dtype ${JSON.stringify(dtype)} (supported: F32|I32|I64|F64|U8)`);
    }
    if (!isShape(shape)) fail(`has tensor '${name}' with invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(`has tensor '${name}' with invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const d = dtype as Dtype;
    const expected = elementCount(shape as number[]) * DTYPES[d].bytes;
    if (end - begin !== expected) {
      fail(`has tensor '${name}' whose data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${d} [${(shape as number[]).join(', ')}] needs ${expected}`);
    }
    entries.push({ name, dtype: d, shape: shape as number[], begin, end });
  }

  // The data section must be exactly the tensors, back to back: the end of the last one is the size the header
  // promises; a shorter file was cut off, a gap or overlap means a corrupt header.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const needed = entries.length ? Math.max(...entries.map((e) => e.end)) : 0;
  if (needed > dataLen) fail(`is truncated: header says ${needed} bytes of data, file has ${dataLen}`);
  let cursor = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.begin < cursor) fail(`has overlapping tensors '${entries[i - 1].name}' and '${e.name}'`);
    if (e.begin > cursor) fail(`has a ${e.begin - cursor}-byte gap in the data before tensor '${e.name}'`);
    cursor = e.end;
  }
  if (cursor < dataLen) fail(`has ${dataLen - cursor} unexpected bytes after the last tensor`);

  const data = view.subarray(dataStart);
  const expectedSum = metadata[CHECKSUM_KEY];
  if (expectedSum !== undefined) {
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== expectedSum) fail(`is corrupt: data checksum mismatch (sha256 ${actual}, expected ${expectedSum})`);
  } else if (opts.requireChecksum) {
    fail(`has no '${CHECKSUM_KEY}' metadata to verify its data against`);
  }

  const tensors = new Map<string, StoredTensor>();
  for (const e of entries) {
    const { ctor, bytes } = DTYPES[e.dtype];
    // Copy into a fresh, aligned buffer: the file buffer's offsets need not be multiples of the element size.
    const arr = new ctor((e.end - e.begin) / bytes);
    bytesOf(arr).set(data.subarray(e.begin, e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: arr });
  }
  return { tensors, metadata };
}

/** Reads and validates a safetensors file; every problem is a one-line CheckpointError naming the file. */
export async function readSafetensors(path: string, opts: ReadOptions = {}): Promise<SafetensorsFile> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'does not exist' : err.code === 'EISDIR' ? 'is a directory' : `cannot be read (${err.code ?? err.message})`;
    throw new CheckpointError(`checkpoint ${path} ${why}`, path);
  }
  return decodeSafetensors(buf, path, opts);
}
