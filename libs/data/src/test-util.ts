// Helpers for this folder's tests: temp dirs and synthetic IDX files. Not part of the public API.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the test process exits. */
export function tempDir(prefix = 'gan-data-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** An IDX ubyte file: magic (0, 0, 8, ndim), big-endian dims, data. */
export function idxBytes(dims: number[], data: Uint8Array, magicOverride?: number): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magicOverride ?? (0x0800 | dims.length), 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** Writes an MNIST-style pair (n images of h×w where pixel = (i*7 + y*w + x) % 256, labels i % 10). */
export function writeIdxPair(dir: string, prefix: 'train' | 't10k', n: number, opts: { gzip?: boolean; h?: number; w?: number; labelCount?: number } = {}) {
  const h = opts.h ?? 28, w = opts.w ?? 28;
  const img = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) img[i * h * w + p] = (i * 7 + p) % 256;
  const nl = opts.labelCount ?? n;
  const lbl = Uint8Array.from({ length: nl }, (_, i) => i % 10);
  const z = (b: Buffer) => (opts.gzip ? zlib.gzipSync(b) : b);
  const ext = opts.gzip ? '.gz' : '';
  const images = path.join(dir, `${prefix}-images-idx3-ubyte${ext}`);
  const labels = path.join(dir, `${prefix}-labels-idx1-ubyte${ext}`);
  fs.writeFileSync(images, z(idxBytes([n, h, w], img)));
  fs.writeFileSync(labels, z(idxBytes([nl], lbl)));
  return { images, labels, img, lbl };
}

/**
 * A multi-member gzip: `prefix`, then `zeroMiB` MiB of zero bytes, at about 1 KB of .gz per MiB (how a small
 * file can inflate to hundreds of MiB).
 */
export function gzipBomb(prefix: Buffer, zeroMiB: number): Buffer {
  const mib = zlib.gzipSync(Buffer.alloc(1 << 20));
  return Buffer.concat([zlib.gzipSync(prefix), ...Array.from({ length: zeroMiB }, () => mib)]);
}
