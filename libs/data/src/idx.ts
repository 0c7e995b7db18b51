// Parser for the IDX format of MNIST / Fashion-MNIST / KMNIST (gzipped or not): a 4-byte magic (0, 0, type
// 0x08 = unsigned byte, number of dimensions), big-endian uint32 sizes, then the data. Every defect (corrupt gzip,
// wrong magic, truncated header or data, trailing bytes, a zero dimension, a declared size over the limit) is a
// one-line Error naming the file. Gzipped files are inflated as a stream: the magic is checked on the first
// inflated bytes and the output is cut off at the size the header declares, so a small .gz cannot expand into
// gigabytes before it is refused. Tested in idx.test.ts.
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

export const IDX_IMAGES_MAGIC = 0x00000803; // 2051
export const IDX_LABELS_MAGIC = 0x00000801; // 2049

/**
 * Most data bytes an IDX file may declare. MNIST's train images are 47 MB and EMNIST's largest split ~550 MB, so
 * 1 GiB admits every real IDX set while capping what a hostile header or gzip stream can make us allocate.
 */
export const IDX_MAX_BYTES = 1 << 30;

/** The header of a dimension count byte of 255: the most header bytes any IDX file can have. */
const MAX_HEADER = 4 + 4 * 255;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export interface IdxReadOptions {
  /** Data-byte limit (default IDX_MAX_BYTES). */
  maxBytes?: number;
}

interface IdxLayout {
  dims: number[];
  header: number;
  /** Data bytes after the header. */
  size: number;
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');
const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * Reads the header at the start of `buf`: undefined while too few bytes are there to decide (so a stream can
 * call it as bytes arrive), otherwise the layout, or an Error for a wrong magic, a zero dimension or a size over
 * maxBytes. `complete` says buf is the whole file, so a short header is an error rather than "not yet".
 */
function readLayout(buf: Buffer, file: string, expectedMagic: number, maxBytes: number, complete: boolean): IdxLayout | undefined {
  if (buf.length < 4) {
    if (complete) throw new Error(`${file}: truncated IDX file: ${buf.length} bytes, too short for the 4-byte magic number`);
    return undefined;
  }
  const magic = buf.readUInt32BE(0);
  if (magic !== expectedMagic) {
    throw new Error(`${file}: wrong IDX magic number ${hex(magic)} at offset 0 (expected ${hex(expectedMagic)} = ${expectedMagic})`);
  }
  const ndim = buf[3];
  const header = 4 + 4 * ndim;
  if (buf.length < header) {
    if (complete) throw new Error(`${file}: truncated IDX header: ${ndim} dimensions need ${header} bytes, file has ${buf.length}`);
    return undefined;
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(buf.readUInt32BE(4 + 4 * d));
  if (dims.some((d) => d === 0)) {
    throw new Error(`${file}: IDX header declares dims [${dims.join(', ')}]; every dimension must be at least 1`);
  }
  // Stops multiplying once over the limit, so three uint32 dims never leave the exact integer range.
  let size = 1;
  for (const d of dims) {
    size *= d;
    if (size > maxBytes) {
      throw new Error(`${file}: IDX header declares dims [${dims.join(', ')}], more than the ${maxBytes}-byte IDX data limit`);
    }
  }
  return { dims, header, size };
}

function checkLength(buf: Buffer, file: string, { dims, header, size }: IdxLayout): void {
  const found = buf.length - header;
  if (found < size) {
    throw new Error(`${file}: truncated IDX data: dims [${dims.join(', ')}] need ${size} bytes after the ${header}-byte header, file ends at offset ${buf.length} (${found} bytes)`);
  }
  if (found > size) {
    throw new Error(`${file}: ${found - size} unexpected trailing bytes after the IDX data (from offset ${header + size})`);
  }
}

/**
 * Decompresses when the bytes start with the gzip magic (1f 8b), refusing output beyond maxOutput bytes. For
 * IDX files readIdxFile's streaming path is tighter (it stops at the size the header declares); this one is for
 * callers that already hold the whole file in memory.
 */
export function maybeGunzip(buf: Buffer, file: string, maxOutput = IDX_MAX_BYTES + MAX_HEADER): Buffer {
  if (!isGzip(buf)) return buf;
  try {
    return zlib.gunzipSync(buf, { maxOutputLength: maxOutput });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new Error(`${file}: gzip data inflates to more than the ${maxOutput}-byte limit; refusing it`);
    }
    throw new Error(`${file}: corrupt or truncated gzip data (${(e as Error).message})`);
  }
}

/** Parses an IDX ubyte array held in memory (gzipped or not), checking the magic against `expectedMagic`. */
export function parseIdx(raw: Buffer, file: string, expectedMagic: number, opts: IdxReadOptions = {}): IdxArray {
  const maxBytes = opts.maxBytes ?? IDX_MAX_BYTES;
  const buf = maybeGunzip(raw, file, maxBytes + MAX_HEADER);
  const layout = readLayout(buf, file, expectedMagic, maxBytes, true)!;
  checkLength(buf, file, layout);
  return { dims: layout.dims, data: new Uint8Array(buf.buffer, buf.byteOffset + layout.header, layout.size) };
}

/** Inflates a .gz IDX file, checking the header as soon as it is out and stopping at the size it declares. */
async function gunzipIdxFile(file: string, expectedMagic: number, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  let layout: IdxLayout | undefined;
  let ours: Error | undefined;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      total += chunk.length;
      try {
        layout ??= readLayout(chunks.length === 1 ? chunk : Buffer.concat(chunks), file, expectedMagic, maxBytes, false);
        if (layout && total > layout.header + layout.size) {
          throw new Error(`${file}: gzip data inflates past the ${layout.header + layout.size} bytes its IDX header declares (dims [${layout.dims.join(', ')}]); refusing the trailing data`);
        }
        cb();
      } catch (e) {
        ours = e as Error;
        cb(ours);
      }
    },
  });
  try {
    await pipeline(fs.createReadStream(file), zlib.createGunzip(), sink);
  } catch (e) {
    if (ours) throw ours;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new Error(`${file}: corrupt or truncated gzip data (${(e as Error).message})`);
    throw e;
  }
  return Buffer.concat(chunks, total);
}

/** Reads an IDX file from disk (gzipped or not) within opts.maxBytes of data. */
export async function readIdxFile(file: string, expectedMagic: number, opts: IdxReadOptions = {}): Promise<IdxArray> {
  const maxBytes = opts.maxBytes ?? IDX_MAX_BYTES;
  const head = Buffer.alloc(2);
  const fd = fs.openSync(file, 'r');
  let size: number;
  try {
    fs.readSync(fd, head, 0, 2, 0);
    size = fs.fstatSync(fd).size;
  } finally {
    fs.closeSync(fd);
  }
  if (isGzip(head)) return parseIdx(await gunzipIdxFile(file, expectedMagic, maxBytes), file, expectedMagic, opts);
  if (size > maxBytes + MAX_HEADER) throw new Error(`${file}: ${size}-byte file is over the ${maxBytes}-byte IDX data limit`);
  return parseIdx(fs.readFileSync(file), file, expectedMagic, opts);
}
