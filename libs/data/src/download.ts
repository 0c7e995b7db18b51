// Verified downloads: fetches a URL into a temporary file next to its destination while hashing it, checks the
// MD5 / SHA-256 against a table of known checksums, and only then renames it into place. A mismatch deletes the
// file and throws; a file without a known checksum is kept with a logger.warn. Also holds the checksum table of
// the IDX datasets. Tested in download.test.ts (against a 127.0.0.1 HTTP server).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { DataLogger } from './types';

/**
 * Known digests of one file as served. md5/sha256 are of the bytes as downloaded (e.g. the .gz); rawMd5 is of the
 * gunzipped content, which survives re-compression by a mirror. Any one matching verifies the file.
 */
export interface ChecksumEntry {
  md5?: string;
  sha256?: string;
  rawMd5?: string;
}

/**
 * The IDX datasets' files and checksums. The .gz MD5s are the ones the dataset authors / torchvision publish; the
 * uncompressed MD5s are listed where we could verify them (MNIST t10k). Entries left empty are "unknown": the
 * download is kept with a warning.
 */
export const IDX_CHECKSUMS: Record<'mnist' | 'fashion-mnist' | 'kmnist', Record<string, ChecksumEntry>> = {
  mnist: {
    'train-images-idx3-ubyte.gz': { md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
    'train-labels-idx1-ubyte.gz': { md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
    't10k-images-idx3-ubyte.gz': { md5: '9fb629c4189551a2d022fa330f9573f3', rawMd5: '2646ac647ad5339dbf082846283269ea' },
    't10k-labels-idx1-ubyte.gz': { md5: 'ec29112dd5afa0611ce80d1b7f02629c', rawMd5: '27ae3e4e09519cfbb04c329615203637' },
  },
  'fashion-mnist': {
    'train-images-idx3-ubyte.gz': { md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
    'train-labels-idx1-ubyte.gz': { md5: '25c81989df183df01b3e8a0aad5dffbe' },
    't10k-images-idx3-ubyte.gz': { md5: 'bef4ecab320f06d8554ea6380940ec79' },
    't10k-labels-idx1-ubyte.gz': { md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
  },
  kmnist: {
    'train-images-idx3-ubyte.gz': { md5: 'bdb82020997e1d708af4cf47b453dcf7' },
    'train-labels-idx1-ubyte.gz': { md5: 'e144d726b3acfaa3e44228e80efcd344' },
    't10k-images-idx3-ubyte.gz': { md5: '5c965bf0a639b31b8f53240b1b52f4d7' },
    't10k-labels-idx1-ubyte.gz': { md5: '7320c461ea6c1c855c0b718fb2a4b134' },
  },
};

export const CIFAR10_CHECKSUM: ChecksumEntry = {
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
};

export const DEFAULT_BASE_URLS: Record<'mnist' | 'fashion-mnist' | 'kmnist' | 'cifar10', string> = {
  mnist: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'fashion-mnist': 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  kmnist: 'https://codh.rois.ac.jp/kmnist/dataset/kmnist/',
  cifar10: 'https://www.cs.toronto.edu/~kriz/',
};

export function joinUrl(base: string, name: string): string {
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

async function digestFile(file: string, gunzip: boolean): Promise<string> {
  const h = crypto.createHash('md5');
  const sink = new Transform({ transform(chunk, _e, cb) { h.update(chunk); cb(); } });
  await pipeline(...([fs.createReadStream(file), ...(gunzip ? [zlib.createGunzip()] : []), sink] as [any, any]));
  return h.digest('hex');
}

export interface DownloadOptions {
  url: string;
  dest: string;
  checksum?: ChecksumEntry;
  logger?: DataLogger;
  /** Whole-download limit; default 10 minutes. */
  timeoutMs?: number;
}

/**
 * Downloads url to dest (creating its folder), verified against `checksum`. On any failure nothing is left at
 * dest or in the temporary file. Returns the digests it computed.
 */
export async function downloadVerified({ url, dest, checksum, logger, timeoutMs = 600_000 }: DownloadOptions): Promise<{ md5: string; sha256: string }> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = `${dest}.part-${process.pid}-${Date.now()}`;
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new Error(`download ${url} failed: ${(e as Error).message}${(e as any).cause ? ` (${(e as any).cause.message ?? (e as any).cause})` : ''}`);
    }
    if (!res.ok || !res.body) throw new Error(`download ${url} failed: HTTP ${res.status} ${res.statusText}`);
    const md5 = crypto.createHash('md5');
    const sha = crypto.createHash('sha256');
    const tap = new Transform({ transform(chunk, _e, cb) { md5.update(chunk); sha.update(chunk); cb(null, chunk); } });
    await pipeline(Readable.fromWeb(res.body as any), tap, fs.createWriteStream(part));
    const got = { md5: md5.digest('hex'), sha256: sha.digest('hex') };
    const known = checksum && (checksum.md5 || checksum.sha256 || checksum.rawMd5);
    if (!known) {
      logger?.warn({ url, ...got }, `no known checksum for ${path.basename(dest)}; keeping it unverified`);
    } else {
      let ok = (checksum.md5 && checksum.md5 === got.md5) || (checksum.sha256 && checksum.sha256 === got.sha256);
      let rawMd5: string | undefined;
      if (!ok && checksum.rawMd5) {
        try {
          rawMd5 = await digestFile(part, true);
        } catch {
          rawMd5 = 'not gzip data';
        }
        ok = rawMd5 === checksum.rawMd5;
      }
      if (!ok) {
        const want = [checksum.md5 && `md5 ${checksum.md5}`, checksum.sha256 && `sha256 ${checksum.sha256}`, checksum.rawMd5 && `uncompressed md5 ${checksum.rawMd5}`].filter(Boolean).join(' or ');
        throw new Error(`checksum mismatch for ${url}: got md5 ${got.md5}${rawMd5 ? `, uncompressed md5 ${rawMd5}` : ''}, expected ${want}; the file was not kept`);
      }
    }
    fs.renameSync(part, dest);
    logger?.info({ url, dest, ...got }, `downloaded ${path.basename(dest)}`);
    return got;
  } finally {
    fs.rmSync(part, { force: true });
  }
}
