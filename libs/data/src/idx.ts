// Parser for the IDX format of MNIST / Fashion-MNIST / KMNIST (gzipped or not): a 4-byte magic (0, 0, type
// 0x08 = unsigned byte, number of dimensions), big-endian uint32 sizes, then the data. Every defect (corrupt gzip,
// wrong magic, truncated header or data, trailing bytes) is an Error naming the file and the offset. Tested in
// idx.test.ts.
import fs from 'node:fs';
import zlib from 'node:zlib';

export const IDX_IMAGES_MAGIC = 0x00000803; // 2051
export const IDX_LABELS_MAGIC = 0x00000801; // 2049

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** Decompresses when the bytes start with the gzip magic (1f 8b). */
export function maybeGunzip(buf: Buffer, file: string): Buffer {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      return zlib.gunzipSync(buf);
    } catch (e) {
      throw new Error(`${file}: corrupt or truncated gzip data (${(e as Error).message})`);
    }
  }
  return buf;
}

/** Parses an IDX ubyte array, checking the magic against `expectedMagic`. */
export function parseIdx(raw: Buffer, file: string, expectedMagic: number): IdxArray {
  const buf = maybeGunzip(raw, file);
  if (buf.length < 4) throw new Error(`${file}: truncated IDX file: ${buf.length} bytes, too short for the 4-byte magic number`);
  const magic = buf.readUInt32BE(0);
  if (magic !== expectedMagic) {
    throw new Error(`${file}: wrong IDX magic number ${hex(magic)} at offset 0 (expected ${hex(expectedMagic)} = ${expectedMagic})`);
  }
  const ndim = buf[3];
  const header = 4 + 4 * ndim;
  if (buf.length < header) {
    throw new Error(`${file}: truncated IDX header: ${ndim} dimensions need ${header} bytes, file has ${buf.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(buf.readUInt32BE(4 + 4 * d));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = buf.length - header;
  if (found < expected) {
    throw new Error(`${file}: truncated IDX data: dims [${dims.join(', ')}] need ${expected} bytes after the ${header}-byte header, file ends at offset ${buf.length} (${found} bytes)`);
  }
  if (found > expected) {
    throw new Error(`${file}: ${found - expected} unexpected trailing bytes after the IDX data (from offset ${header + expected})`);
  }
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + header, expected) };
}

export function readIdxFile(file: string, expectedMagic: number): IdxArray {
  return parseIdx(fs.readFileSync(file), file, expectedMagic);
}
