// `folder`: every PNG / JPEG under a directory (recursively, sorted by relative path), like the `folder`
// dataset of pytorch/examples dcgan. Each image is auto-oriented (EXIF), its shorter side resized to imageSize
// and the centre cropped (sharp fit 'cover', lanczos3), alpha flattened onto black, then converted to the
// requested channels (ITU-R 601 luma / replication). Images are decoded once, at open, with bounded
// concurrency; the decoded pixels are kept in a per-process memory cache and, when cacheDir is set, in a cache
// file keyed by (paths, sizes, mtimes, imageSize, channels), so later epochs and later runs never decode again.
// Labels: the index of the top-level sub-folder when every image lies in one (ImageFolder classes).
// Tested in image-folder.test.ts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Dataset, DatasetSpec } from './types';
import { createU8ImageDataset } from './u8-image-dataset';

const EXT = /\.(png|jpe?g)$/i;
const CACHE_MAGIC = 'GANIMGC1';

/** Counters for tests and telemetry: how many images were decoded / served from a cache in this process. */
export const imageFolderStats = { decoded: 0, memoryHits: 0, fileHits: 0 };

interface Decoded {
  files: string[]; // relative paths of the images kept (bad ones skipped)
  data: Uint8Array;
  labels?: Int32Array;
}
const memoryCache = new Map<string, Decoded>();
const MEMORY_CACHE_ENTRIES = 2;

export function clearImageFolderCache(): void {
  memoryCache.clear();
}

function listImages(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && EXT.test(e.name)) out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

/** Decodes one image to size×size×channels uint8 (HWC). */
async function decodeImage(file: string, size: number, channels: 1 | 3): Promise<Uint8Array> {
  const { data, info } = await sharp(file, { failOn: 'error' })
    .rotate()
    .resize(size, size, { fit: 'cover', position: 'centre' })
    .flatten({ background: '#000000' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size) throw new Error(`decoded to ${info.width}×${info.height}, expected ${size}×${size}`);
  const n = size * size;
  const src = info.channels;
  const out = new Uint8Array(n * channels);
  if (src === channels) {
    out.set(data.subarray(0, n * channels));
  } else if (channels === 1) {
    // src is 3 or 4 (RGB[A]); ITU-R 601 luma
    for (let p = 0; p < n; p++) out[p] = Math.round(0.299 * data[p * src] + 0.587 * data[p * src + 1] + 0.114 * data[p * src + 2]);
  } else {
    // src is 1 or 2 (gray[+alpha]) → replicate, or 4 → drop alpha
    for (let p = 0; p < n; p++) {
      if (src <= 2) out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = data[p * src];
      else { out[3 * p] = data[p * src]; out[3 * p + 1] = data[p * src + 1]; out[3 * p + 2] = data[p * src + 2]; }
    }
  }
  return out;
}

function readCacheFile(file: string, key: string, sampleSize: number): Decoded | undefined {
  try {
    const buf = fs.readFileSync(file);
    if (buf.subarray(0, 8).toString('latin1') !== CACHE_MAGIC) return undefined;
    const jsonLen = buf.readUInt32LE(8);
    const head = JSON.parse(buf.subarray(12, 12 + jsonLen).toString('utf8'));
    if (head.key !== key) return undefined;
    const start = 12 + jsonLen;
    const count = head.files.length;
    if (buf.length !== start + count * sampleSize) return undefined;
    return { files: head.files, labels: head.labels ? Int32Array.from(head.labels) : undefined, data: new Uint8Array(buf.buffer, buf.byteOffset + start, count * sampleSize) };
  } catch {
    return undefined; // a missing or damaged cache is rebuilt, never fatal
  }
}

function writeCacheFile(file: string, key: string, d: Decoded): void {
  const json = Buffer.from(JSON.stringify({ key, files: d.files, labels: d.labels ? [...d.labels] : undefined }), 'utf8');
  const head = Buffer.alloc(12);
  head.write(CACHE_MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([head, json, d.data]));
  fs.renameSync(tmp, file);
}

export async function openImageFolder(spec: DatasetSpec, opts: { concurrency?: number } = {}): Promise<Dataset> {
  if (!spec.root) throw new Error('folder: spec.root (the image folder) is required');
  const root = path.resolve(spec.root);
  let st: fs.Stats;
  try {
    st = fs.statSync(root);
  } catch {
    throw new Error(`folder: ${root} does not exist`);
  }
  if (!st.isDirectory()) throw new Error(`folder: ${root} is not a directory`);
  const all = listImages(root);
  if (all.length === 0) throw new Error(`folder: no PNG or JPEG images under ${root}`);
  const S = spec.imageSize;
  const C = spec.channels;
  const sampleSize = S * S * C;
  const key = crypto
    .createHash('sha256')
    .update(JSON.stringify({ v: 1, root, S, C, skip: !!spec.skipBadImages, files: all.map((f) => { const s = fs.statSync(path.join(root, f)); return [f, s.size, s.mtimeMs]; }) }))
    .digest('hex');
  const cacheFile = spec.cacheDir ? path.join(spec.cacheDir, `folder-${key.slice(0, 24)}.bin`) : undefined;

  let decoded = memoryCache.get(key);
  if (decoded) imageFolderStats.memoryHits++;
  if (!decoded && cacheFile) {
    decoded = readCacheFile(cacheFile, key, sampleSize);
    if (decoded) imageFolderStats.fileHits++;
  }
  if (!decoded) {
    const results: (Uint8Array | undefined)[] = new Array(all.length);
    const concurrency = Math.max(1, opts.concurrency ?? Math.min(8, os.cpus().length * 2));
    let next = 0;
    let failure: Error | undefined;
    const worker = async () => {
      while (!failure && next < all.length) {
        const i = next++;
        const file = path.join(root, all[i]);
        try {
          results[i] = await decodeImage(file, S, C);
          imageFolderStats.decoded++;
        } catch (e) {
          const msg = `folder: cannot decode image ${file}: ${(e as Error).message.split('\n')[0]}`;
          if (!spec.skipBadImages) { failure ??= new Error(msg); return; }
          spec.logger?.warn({ file, err: (e as Error).message }, `skipping bad image: ${msg}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, all.length) }, worker));
    if (failure) throw failure;
    const keep = all.map((_, i) => i).filter((i) => results[i]);
    if (keep.length === 0) throw new Error(`folder: none of the ${all.length} images under ${root} could be decoded`);
    const data = new Uint8Array(keep.length * sampleSize);
    keep.forEach((i, j) => data.set(results[i]!, j * sampleSize));
    const files = keep.map((i) => all[i]);
    decoded = { files, data, labels: folderLabels(files) };
    if (keep.length < all.length) spec.logger?.warn({ root, skipped: all.length - keep.length }, `skipped ${all.length - keep.length} bad images of ${all.length}`);
    if (cacheFile) writeCacheFile(cacheFile, key, decoded);
  }
  memoryCache.set(key, decoded);
  while (memoryCache.size > MEMORY_CACHE_ENTRIES) memoryCache.delete(memoryCache.keys().next().value!);
  const ds = createU8ImageDataset('folder', { data: decoded.data, count: decoded.files.length, height: S, width: S, channels: C }, S, C, { labels: decoded.labels });
  return Object.assign(ds, { files: decoded.files });
}

/** Class index of the top-level sub-folder, when every image is inside one; otherwise no labels. */
function folderLabels(files: string[]): Int32Array | undefined {
  const tops = files.map((f) => f.split(path.sep));
  if (tops.some((t) => t.length < 2)) return undefined;
  const classes = [...new Set(tops.map((t) => t[0]))].sort();
  return Int32Array.from(tops, (t) => classes.indexOf(t[0]));
}
