// MNIST, Fashion-MNIST and KMNIST from their IDX files (`train-images-idx3-ubyte[.gz]` + `train-labels-idx1-ubyte
// [.gz]`, or the `t10k-` pair for split 'test'), optionally downloaded from a base URL with checksums. 28×28
// images reach imageSize by bilinear resampling (default) or by a centred pad (idxResize: 'pad', the DCGAN
// 28→32 habit). With no split given and only the t10k pair present, the test split is used (with a warning). Tested in idx.test.ts and download.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_BASE_URLS, IDX_CHECKSUMS, downloadVerified, joinUrl } from './download';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, readIdxFile } from './idx';
import type { Dataset, DatasetSpec } from './types';
import { createU8ImageDataset } from './u8-image-dataset';

export type IdxDatasetName = 'mnist' | 'fashion-mnist' | 'kmnist';

export function idxFileNames(split: 'train' | 'test'): { images: string; labels: string } {
  const p = split === 'train' ? 'train' : 't10k';
  return { images: `${p}-images-idx3-ubyte`, labels: `${p}-labels-idx1-ubyte` };
}

/** The folder a dataset lives in when spec.root is not given. */
export function defaultDataDir(name: string): string {
  return path.resolve('data', name);
}

function findFile(dirs: string[], base: string): string | undefined {
  for (const d of dirs) for (const f of [base, `${base}.gz`]) {
    const p = path.join(d, f);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** Finds (or, with spec.download, fetches) one IDX file; returns its path. */
async function locate(spec: DatasetSpec & { name: IdxDatasetName }, base: string): Promise<string> {
  const root = spec.root ?? defaultDataDir(spec.name);
  const cacheDir = spec.cacheDir ?? root;
  const dirs = [...new Set([root, cacheDir])];
  const found = findFile(dirs, base);
  if (found) return found;
  if (!spec.download) {
    throw new Error(`${spec.name}: ${base}[.gz] not found in ${dirs.join(' or ')}; pass download: true or point root at the IDX files`);
  }
  const file = `${base}.gz`;
  const dest = path.join(cacheDir, file);
  await downloadVerified({
    url: joinUrl(spec.baseUrl ?? DEFAULT_BASE_URLS[spec.name], file),
    dest,
    checksum: IDX_CHECKSUMS[spec.name][file],
    allowHttp: spec.allowHttp,
    logger: spec.logger,
  });
  return dest;
}

export async function openIdxDataset(spec: DatasetSpec & { name: IdxDatasetName }): Promise<Dataset> {
  let split = spec.split ?? 'train';
  if (spec.split === undefined && !spec.download) {
    // Only the 10,000-image test split ships with some setups (e.g. ../shared/datasets/mnist): when no split was
    // asked for and the train pair is absent but the t10k pair is there, use it rather than fail.
    const root = spec.root ?? defaultDataDir(spec.name);
    const dirs = [...new Set([root, spec.cacheDir ?? root])];
    const train = idxFileNames('train'), test = idxFileNames('test');
    if (!findFile(dirs, train.images) && findFile(dirs, test.images) && findFile(dirs, test.labels)) {
      spec.logger?.warn({ dataset: spec.name, root }, `${spec.name}: no train split in ${root}; using the t10k (test) split`);
      split = 'test';
    }
  }
  const names = idxFileNames(split);
  const imgFile = await locate(spec, names.images);
  const lblFile = await locate(spec, names.labels);
  const img = await readIdxFile(imgFile, IDX_IMAGES_MAGIC);
  if (img.dims.length !== 3) throw new Error(`${imgFile}: expected a 3-D IDX image array, got dims [${img.dims.join(', ')}]`);
  const lbl = await readIdxFile(lblFile, IDX_LABELS_MAGIC);
  if (lbl.dims.length !== 1) throw new Error(`${lblFile}: expected a 1-D IDX label array, got dims [${lbl.dims.join(', ')}]`);
  const [n, h, w] = img.dims;
  if (lbl.dims[0] !== n) throw new Error(`${imgFile} has ${n} images but ${lblFile} has ${lbl.dims[0]} labels`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (lbl.data[i] > 9) throw new Error(`${lblFile}: label entry ${i} (offset ${8 + i}) is ${lbl.data[i]}, expected 0-9`);
    labels[i] = lbl.data[i];
  }
  const resize = spec.idxResize ?? 'bilinear';
  if (resize === 'pad' && (h > spec.imageSize || w > spec.imageSize)) {
    throw new Error(`${spec.name}: idxResize 'pad' needs imageSize ≥ ${Math.max(h, w)}, got ${spec.imageSize}`);
  }
  spec.logger?.info({ dataset: spec.name, images: imgFile, count: n }, `loaded ${n} ${h}×${w} ${spec.name} images`);
  return createU8ImageDataset(spec.name, { data: img.data, count: n, height: h, width: w, channels: 1 }, spec.imageSize, spec.channels, { labels, resize });
}
