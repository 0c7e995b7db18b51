// Verified downloads: fetches a URL into a temporary file next to its destination while hashing it, checks it
// against a table of known digests, and only then renames it into place. Also holds the IDX / CIFAR-10 tables.
//
// Policy (what a careful torchvision user expects: integrity checked, no silent trust in weak evidence):
// - Transport: https only. Plain http (the initial URL or any redirect hop) is refused unless allowHttp
//   (`--allow-http`); any other scheme is always refused. Redirects are followed by hand (at most 5) so every hop
//   is checked. A download over DOWNLOAD_MAX_BYTES is aborted.
// - Verification is SHA-256 only: `sha256` (of the bytes as served) or `rawSha256` (of the gunzipped content,
//   which survives a mirror re-compressing the .gz; inflation is bounded by rawBytes). When a SHA-256 is pinned
//   and none matches, the file is refused.
// - Files with no SHA-256 pinned (the ones we could not hash ourselves) keep their published MD5 as a tripwire
//   only: an MD5 mismatch refuses the file (as torchvision would), an MD5 match keeps it with a loud
//   "UNVERIFIED" warning that logs its SHA-256 for the user to check, because MD5 is not collision-resistant.
//   We keep rather than refuse so `--download` still works for those datasets; no pinned value is guessed.
// - A file with no entry at all is kept with the same UNVERIFIED warning.
// Any refusal deletes the partial file and throws one line. Tested in download.test.ts (127.0.0.1 HTTP server).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import zlib from 'node:zlib';
import type { DataLogger } from './types';

/** Known digests of one file. Only the SHA-256 fields verify; see the policy at the top of this file. */
export interface ChecksumEntry {
  /** SHA-256 of the bytes as served (e.g. the .gz). */
  sha256?: string;
  /** SHA-256 of the gunzipped content. */
  rawSha256?: string;
  /** Length of the gunzipped content: inflating stops past it when checking rawSha256. */
  rawBytes?: number;
  /** Published MD5 of the bytes as served: a mismatch refuses the file, a match does not verify it. */
  md5?: string;
}

/**
 * The IDX datasets' files. MNIST t10k pins the SHA-256 of the uncompressed content, computed from
 * ../shared/datasets/mnist, whose content matches the published uncompressed MD5s (2646ac64…, 27ae3e4e…) while
 * its .gz bytes are a re-compression (their MD5 is not the published one), so a .gz SHA-256 taken from those
 * copies would refuse the genuine download. The other files keep only the MD5s that the dataset authors /
 * torchvision publish (see the policy above for what that means).
 */
export const IDX_CHECKSUMS: Record<'mnist' | 'fashion-mnist' | 'kmnist', Record<string, ChecksumEntry>> = {
  mnist: {
    'train-images-idx3-ubyte.gz': { md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
    'train-labels-idx1-ubyte.gz': { md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
    't10k-images-idx3-ubyte.gz': {
      rawSha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7', rawBytes: 7_840_016,
      md5: '9fb629c4189551a2d022fa330f9573f3',
    },
    't10k-labels-idx1-ubyte.gz': {
      rawSha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2', rawBytes: 10_008,
      md5: 'ec29112dd5afa0611ce80d1b7f02629c',
    },
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
  sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
};

/** Fashion-MNIST's official mirror is an S3 website endpoint, which has no https: it needs allowHttp. */
export const DEFAULT_BASE_URLS: Record<'mnist' | 'fashion-mnist' | 'kmnist' | 'cifar10', string> = {
  mnist: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'fashion-mnist': 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  kmnist: 'https://codh.rois.ac.jp/kmnist/dataset/kmnist/',
  cifar10: 'https://www.cs.toronto.edu/~kriz/',
};

/** Largest download accepted (CIFAR-10's 163 MB archive is the biggest real one). */
export const DOWNLOAD_MAX_BYTES = 1 << 30;
const MAX_REDIRECTS = 5;

export function joinUrl(base: string, name: string): string {
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

/** Throws unless `target` is https, or http with allowHttp; `what` opens the error ("download URL"). */
function checkScheme(target: string, allowHttp: boolean, what: string): URL {
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    throw new Error(`${what} refused: '${target}' is not a valid URL`);
  }
  if (u.protocol === 'https:' || (u.protocol === 'http:' && allowHttp)) return u;
  if (u.protocol === 'http:') throw new Error(`${what} refused: plain http is not allowed (${target}); use an https URL or pass --allow-http`);
  throw new Error(`${what} refused: only https URLs (or http with --allow-http) are fetched, got ${u.protocol} (${target})`);
}

/** SHA-256 of a gzip file's content, refusing to inflate more than maxBytes. */
async function gunzippedSha256(file: string, maxBytes: number): Promise<string> {
  const h = crypto.createHash('sha256');
  let n = 0;
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      n += chunk.length;
      if (n > maxBytes) return cb(new Error(`inflates past ${maxBytes} bytes`));
      h.update(chunk);
      cb();
    },
  });
  await pipeline(fs.createReadStream(file), zlib.createGunzip(), sink);
  return h.digest('hex');
}

export interface DownloadOptions {
  url: string;
  dest: string;
  checksum?: ChecksumEntry;
  logger?: DataLogger;
  /** Accept plain http URLs and redirects (default false: https only). */
  allowHttp?: boolean;
  /** Whole-download limit; default 10 minutes. */
  timeoutMs?: number;
  /** Size limit of the download; default DOWNLOAD_MAX_BYTES. */
  maxBytes?: number;
}

async function fetchChecked(url: string, allowHttp: boolean, signal: AbortSignal, logger?: DataLogger): Promise<Response> {
  let target = url;
  for (let hop = 0; ; hop++) {
    const u = checkScheme(target, allowHttp, hop === 0 ? `download ${url}` : `download ${url} (redirected to ${target})`);
    if (u.protocol === 'http:') logger?.warn({ url: target }, `fetching ${target} over plain http (--allow-http): only its checksum protects it`);
    let res: Response;
    try {
      res = await fetch(target, { signal, redirect: 'manual' });
    } catch (e) {
      const cause = (e as Error & { cause?: unknown }).cause;
      const why = cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
      throw new Error(`download ${url} failed: ${(e as Error).message}${why ? ` (${why})` : ''}`);
    }
    const location = res.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(res.status) || location === null) return res;
    await res.body?.cancel();
    if (hop === MAX_REDIRECTS) throw new Error(`download ${url} failed: more than ${MAX_REDIRECTS} redirects`);
    target = new URL(location, target).href;
  }
}

/**
 * Downloads url to dest (creating its folder) under the policy at the top of this file. On any failure nothing
 * is left at dest or in the temporary file. Returns the digests of the bytes as served.
 */
export async function downloadVerified(opts: DownloadOptions): Promise<{ md5: string; sha256: string }> {
  const { url, dest, checksum, logger, allowHttp = false, timeoutMs = 600_000, maxBytes = DOWNLOAD_MAX_BYTES } = opts;
  checkScheme(url, allowHttp, `download ${url}`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const part = `${dest}.part-${process.pid}-${Date.now()}`;
  try {
    const res = await fetchChecked(url, allowHttp, AbortSignal.timeout(timeoutMs), logger);
    if (!res.ok || !res.body) throw new Error(`download ${url} failed: HTTP ${res.status} ${res.statusText}`);
    const declared = Number(res.headers.get('content-length'));
    const tooBig = () => new Error(`download ${url} refused: larger than the ${maxBytes}-byte download limit`);
    if (declared > maxBytes) {
      await res.body.cancel();
      throw tooBig();
    }
    const md5 = crypto.createHash('md5');
    const sha = crypto.createHash('sha256');
    let n = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        n += chunk.length;
        if (n > maxBytes) return cb(tooBig());
        md5.update(chunk);
        sha.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), tap, fs.createWriteStream(part));
    const got = { md5: md5.digest('hex'), sha256: sha.digest('hex') };
    const name = path.basename(dest);
    if (checksum?.sha256 || checksum?.rawSha256) {
      let raw: string | undefined;
      let ok = checksum.sha256 === got.sha256;
      if (!ok && checksum.rawSha256) {
        try {
          raw = await gunzippedSha256(part, checksum.rawBytes ?? maxBytes);
        } catch (e) {
          raw = `none (${(e as Error).message})`;
        }
        ok = raw === checksum.rawSha256;
      }
      if (!ok) {
        const want = [checksum.sha256 && `sha256 ${checksum.sha256}`, checksum.rawSha256 && `uncompressed sha256 ${checksum.rawSha256}`].filter(Boolean).join(' or ');
        throw new Error(`checksum mismatch for ${url}: got sha256 ${got.sha256}${raw ? `, uncompressed sha256 ${raw}` : ''}, expected ${want}; the file was not kept`);
      }
    } else if (checksum?.md5 && checksum.md5 !== got.md5) {
      throw new Error(`checksum mismatch for ${url}: got md5 ${got.md5}, expected the published md5 ${checksum.md5}; the file was not kept`);
    } else {
      const why = checksum?.md5 ? 'it matches its published MD5, but no SHA-256 is pinned for it and MD5 is not collision-resistant' : 'no checksum is known for it';
      logger?.warn({ url, ...got }, `UNVERIFIED download ${name}: ${why}; check its sha256 ${got.sha256} against a trusted source`);
    }
    fs.renameSync(part, dest);
    logger?.info({ url, dest, ...got }, `downloaded ${name}`);
    return got;
  } finally {
    fs.rmSync(part, { force: true });
  }
}
