// CIFAR-10 in its binary form: `data_batch_1.bin` … `data_batch_5.bin` (split 'train') or `test_batch.bin`
// ('test'), each a run of 3073-byte records (1 label byte, then 1024 R, 1024 G, 1024 B bytes, rows top to
// bottom). Looked up in root, root/cifar-10-batches-bin and the same under cacheDir; with download: true the
// official `cifar-10-binary.tar.gz` is fetched, SHA-256-verified and its .bin members extracted (inflating at
// most CIFAR10_TAR_MAX_BYTES, so a gzip bomb in its place is refused). Tested in cifar10.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { CIFAR10_CHECKSUM, DEFAULT_BASE_URLS, downloadVerified, joinUrl } from './download';
import { defaultDataDir } from './idx-dataset';
import type { Dataset, DatasetSpec } from './types';
import { createU8ImageDataset } from './u8-image-dataset';

const RECORD = 3073;
const PIXELS = 1024;

/**
 * Most bytes the CIFAR-10 archive may inflate to: the real tar is ~184 MB (six 30.7 MB batches plus headers);
 * 256 MiB leaves headroom without letting a small .gz expand into gigabytes.
 */
export const CIFAR10_TAR_MAX_BYTES = 256 * 1024 * 1024;

export function cifarFileNames(split: 'train' | 'test'): string[] {
  return split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
}

/**
 * Extracts the regular files of a (possibly gzipped) ustar archive whose names end in `.bin` into destDir, flat
 * (only the base name is used, so an archive cannot write outside destDir). The tar (inflated or not) may hold at
 * most maxBytes. Returns the names written.
 */
export function extractBinMembers(archive: string, destDir: string, maxBytes = CIFAR10_TAR_MAX_BYTES): string[] {
  let buf = fs.readFileSync(archive);
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf, { maxOutputLength: maxBytes });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new Error(`${archive}: gzip data inflates to more than the ${maxBytes}-byte CIFAR-10 archive limit; refusing it`);
      }
      throw new Error(`${archive}: corrupt or truncated gzip data (${(e as Error).message})`);
    }
  } else if (buf.length > maxBytes) {
    throw new Error(`${archive}: ${buf.length}-byte tar is over the ${maxBytes}-byte CIFAR-10 archive limit`);
  }
  const written: string[] = [];
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break; // end-of-archive block
    const cstr = (a: number, b: number) => { const s = h.subarray(a, b); const z = s.indexOf(0); return s.subarray(0, z < 0 ? s.length : z).toString('utf8'); };
    const name = cstr(0, 100);
    const size = parseInt(cstr(124, 136).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 0x30);
    if (!Number.isFinite(size) || size < 0) throw new Error(`${archive}: bad tar header at offset ${off}`);
    const dataStart = off + 512;
    if (dataStart + size > buf.length) throw new Error(`${archive}: truncated tar member '${name}' at offset ${off}`);
    if ((type === '0' || type === '\0') && name.endsWith('.bin')) {
      const base = path.basename(name);
      fs.writeFileSync(path.join(destDir, base), buf.subarray(dataStart, dataStart + size));
      written.push(base);
    }
    off = dataStart + Math.ceil(size / 512) * 512;
  }
  return written;
}

/** Parses CIFAR-10 binary batches into one HWC uint8 array plus labels. */
export function readCifarFiles(files: string[]): { data: Uint8Array; labels: Int32Array; count: number } {
  const bufs = files.map((f) => {
    const b = fs.readFileSync(f);
    if (b.length === 0) throw new Error(`${f}: empty CIFAR-10 batch file`);
    if (b.length % RECORD !== 0) {
      const whole = Math.floor(b.length / RECORD);
      throw new Error(`${f}: truncated CIFAR-10 record ${whole} at offset ${whole * RECORD} (file is ${b.length} bytes, not a multiple of ${RECORD})`);
    }
    return b;
  });
  const count = bufs.reduce((a, b) => a + b.length / RECORD, 0);
  const data = new Uint8Array(count * 3 * PIXELS);
  const labels = new Int32Array(count);
  let i = 0;
  bufs.forEach((b, fi) => {
    for (let r = 0; r < b.length / RECORD; r++, i++) {
      const o = r * RECORD;
      if (b[o] > 9) throw new Error(`${files[fi]}: record ${r} (offset ${o}) has label ${b[o]}, expected 0-9`);
      labels[i] = b[o];
      const dst = i * 3 * PIXELS;
      // CHW planes → interleaved HWC
      for (let p = 0; p < PIXELS; p++) {
        data[dst + 3 * p] = b[o + 1 + p];
        data[dst + 3 * p + 1] = b[o + 1 + PIXELS + p];
        data[dst + 3 * p + 2] = b[o + 1 + 2 * PIXELS + p];
      }
    }
  });
  return { data, labels, count };
}

export async function openCifar10(spec: DatasetSpec): Promise<Dataset> {
  const root = spec.root ?? defaultDataDir('cifar10');
  const cacheDir = spec.cacheDir ?? root;
  const dirs = [...new Set([root, path.join(root, 'cifar-10-batches-bin'), cacheDir, path.join(cacheDir, 'cifar-10-batches-bin')])];
  const names = cifarFileNames(spec.split ?? 'train');
  const find = () => names.map((n) => dirs.map((d) => path.join(d, n)).find((p) => fs.existsSync(p)));
  let files = find();
  if (files.some((f) => !f) && spec.download) {
    const archive = path.join(cacheDir, 'cifar-10-binary.tar.gz');
    if (!fs.existsSync(archive)) {
      await downloadVerified({
        url: joinUrl(spec.baseUrl ?? DEFAULT_BASE_URLS.cifar10, 'cifar-10-binary.tar.gz'),
        dest: archive, checksum: CIFAR10_CHECKSUM, allowHttp: spec.allowHttp, logger: spec.logger,
      });
    }
    const out = path.join(cacheDir, 'cifar-10-batches-bin');
    fs.mkdirSync(out, { recursive: true });
    extractBinMembers(archive, out);
    files = find();
  }
  const missing = names.filter((_, i) => !files[i]);
  if (missing.length) throw new Error(`cifar10: ${missing.join(', ')} not found in ${dirs.join(' or ')}; pass download: true or point root at the binary batches`);
  const { data, labels, count } = readCifarFiles(files as string[]);
  spec.logger?.info({ dataset: 'cifar10', count }, `loaded ${count} CIFAR-10 images`);
  return createU8ImageDataset('cifar10', { data, count, height: 32, width: 32, channels: 3 }, spec.imageSize, spec.channels, { labels });
}
