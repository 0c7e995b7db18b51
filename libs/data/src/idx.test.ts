// Tests of the IDX reader and the MNIST-family datasets on synthetic files (gzipped and plain), every bad-input
// case, and a check on the real MNIST test split when ../shared/datasets/mnist is present (skipped otherwise).
// Run: node tools/run-tests.mjs libs/data idx
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IDX_MAX_BYTES, openDataset, parseIdx, readIdxFile } from './index';
import { gzipBomb, idxBytes, tempDir, writeIdxPair } from './test-util';

test('IDX: plain and gzipped files load the same pixels, labels, shape and range', async () => {
  const plain = tempDir(), gz = tempDir();
  const { img, lbl } = writeIdxPair(plain, 'train', 12);
  writeIdxPair(gz, 'train', 12, { gzip: true });
  const a = await openDataset({ name: 'mnist', root: plain, imageSize: 28, channels: 1, seed: 0 });
  const b = await openDataset({ name: 'fashion-mnist', root: gz, imageSize: 28, channels: 1, seed: 0 });
  assert.equal(a.length, 12);
  assert.deepEqual(a.sampleShape, [28, 28, 1]);
  assert.deepEqual([...a.labels!], [...lbl]);
  const oa = new Float32Array(12 * 784), ob = new Float32Array(12 * 784);
  a.read(Array.from({ length: 12 }, (_, i) => i), oa);
  b.read(Array.from({ length: 12 }, (_, i) => i), ob);
  assert.deepEqual(oa, ob);
  for (let p = 0; p < oa.length; p++) assert.ok(Math.abs(oa[p] - ((img[p] * 2) / 255 - 1)) < 1e-6);
  // test split uses the t10k pair
  writeIdxPair(plain, 't10k', 3);
  const t = await openDataset({ name: 'kmnist', root: plain, imageSize: 28, channels: 1, seed: 0, split: 'test' });
  assert.equal(t.length, 3);
  // only a t10k pair and no split asked for: the test split is used, with a warning
  const only = tempDir();
  writeIdxPair(only, 't10k', 6, { gzip: true });
  const warns: string[] = [];
  const logger = { warn: (_o: object, m: string) => { warns.push(m); }, info: () => {} };
  const f = await openDataset({ name: 'mnist', root: only, imageSize: 28, channels: 1, seed: 0, logger });
  assert.equal(f.length, 6);
  assert.match(warns.join(), /no train split .*using the t10k \(test\) split/);
  await assert.rejects(openDataset({ name: 'mnist', root: only, imageSize: 28, channels: 1, seed: 0, split: 'train' }), /train-images-idx3-ubyte\[\.gz\] not found/);
});

test('IDX: resized to 32 (bilinear and pad) and to 3 channels', async () => {
  const dir = tempDir();
  writeIdxPair(dir, 'train', 4);
  const bi = await openDataset({ name: 'mnist', root: dir, imageSize: 32, channels: 3, seed: 0 });
  assert.deepEqual(bi.sampleShape, [32, 32, 3]);
  const o = new Float32Array(bi.sampleSize);
  bi.read([2], o);
  for (let p = 0; p < 32 * 32; p++) assert.ok(o[3 * p] === o[3 * p + 1] && o[3 * p] === o[3 * p + 2]);
  for (const v of o) assert.ok(v >= -1 && v <= 1);
  const pad = await openDataset({ name: 'mnist', root: dir, imageSize: 32, channels: 1, seed: 0, idxResize: 'pad' });
  const op = new Float32Array(pad.sampleSize);
  pad.read([2], op);
  assert.equal(op[0], -1);
  assert.ok(Math.abs(op[2 * 32 + 2] - ((((2 * 7) % 256) * 2) / 255 - 1)) < 1e-6);
  await assert.rejects(openDataset({ name: 'mnist', root: dir, imageSize: 16, channels: 1, seed: 0, idxResize: 'pad' }), /pad' needs imageSize ≥ 28/);
});

test('IDX bad input: truncated data, truncated gzip, wrong magic, count mismatch, bad label, missing file', async () => {
  const open = (root: string) => openDataset({ name: 'mnist', root, imageSize: 28, channels: 1, seed: 0 });
  // truncated image data
  let dir = tempDir();
  const { images } = writeIdxPair(dir, 'train', 5);
  fs.truncateSync(images, 16 + 784 * 5 - 100);
  await assert.rejects(open(dir), (e: Error) => e.message.includes(images) && /truncated IDX data.*need 3920 bytes.*ends at offset 3836/.test(e.message));
  // truncated header
  fs.writeFileSync(images, idxBytes([5, 28, 28], new Uint8Array(0)).subarray(0, 10));
  await assert.rejects(open(dir), /truncated IDX header/);
  // truncated gzip
  dir = tempDir();
  const gz = writeIdxPair(dir, 'train', 5, { gzip: true });
  const bytes = fs.readFileSync(gz.images);
  fs.writeFileSync(gz.images, bytes.subarray(0, bytes.length - 30));
  await assert.rejects(open(dir), (e: Error) => e.message.includes(gz.images) && /corrupt or truncated gzip/.test(e.message));
  // wrong magic: the labels file where the images should be
  dir = tempDir();
  const pair = writeIdxPair(dir, 'train', 5);
  fs.copyFileSync(pair.labels, pair.images);
  await assert.rejects(open(dir), (e: Error) => e.message.includes(pair.images) && /wrong IDX magic number 0x00000801 at offset 0 \(expected 0x00000803/.test(e.message));
  // image/label count mismatch
  dir = tempDir();
  writeIdxPair(dir, 'train', 5, { labelCount: 4 });
  await assert.rejects(open(dir), /has 5 images but .*train-labels-idx1-ubyte has 4 labels/);
  // label out of range
  dir = tempDir();
  const p2 = writeIdxPair(dir, 'train', 5);
  fs.writeFileSync(p2.labels, idxBytes([5], Uint8Array.from([1, 2, 3, 42, 4])));
  await assert.rejects(open(dir), /label entry 3 \(offset 11\) is 42/);
  // trailing garbage
  dir = tempDir();
  const p3 = writeIdxPair(dir, 'train', 5);
  fs.appendFileSync(p3.images, Buffer.from([1, 2, 3]));
  await assert.rejects(open(dir), /3 unexpected trailing bytes/);
  // nothing there
  await assert.rejects(open(tempDir()), /train-images-idx3-ubyte\[\.gz\] not found in .*download: true/);
});

test('IDX header: zero dimensions and sizes over the limit are refused, naming the file', async () => {
  const open = (root: string) => openDataset({ name: 'mnist', root, imageSize: 28, channels: 1, seed: 0 });
  for (const [dims, gzip] of [[[5, 0, 0], false], [[0, 28, 28], true], [[3, 28, 0], false]] as const) {
    const dir = tempDir();
    const { images } = writeIdxPair(dir, 'train', 5, { gzip });
    const n = dims[0] * dims[1] * dims[2];
    const bytes = idxBytes([...dims], new Uint8Array(n));
    fs.writeFileSync(images, gzip ? zlib.gzipSync(bytes) : bytes);
    await assert.rejects(open(dir), (e: Error) => e.message === `${images}: IDX header declares dims [${dims.join(', ')}]; every dimension must be at least 1`);
  }
  const dir = tempDir();
  const { labels } = writeIdxPair(dir, 'train', 5);
  fs.writeFileSync(labels, idxBytes([0], new Uint8Array(0)));
  await assert.rejects(open(dir), (e: Error) => e.message.startsWith(`${labels}: IDX header declares dims [0]`));
  // dims whose product is 2^48: refused from the header, before any length arithmetic
  const huge = path.join(tempDir(), 'huge-idx3-ubyte');
  fs.writeFileSync(huge, idxBytes([65536, 65536, 65536], new Uint8Array(10)));
  await assert.rejects(readIdxFile(huge, IDX_IMAGES_MAGIC), (e: Error) => e.message === `${huge}: IDX header declares dims [65536, 65536, 65536], more than the ${IDX_MAX_BYTES}-byte IDX data limit`);
  // the limit is an option; a plain file over it is refused from its size alone
  const small = path.join(tempDir(), 'small-idx3-ubyte');
  fs.writeFileSync(small, idxBytes([2, 28, 28], new Uint8Array(2 * 784)));
  assert.equal((await readIdxFile(small, IDX_IMAGES_MAGIC, { maxBytes: 2 * 784 })).data.length, 2 * 784);
  await assert.rejects(readIdxFile(small, IDX_IMAGES_MAGIC, { maxBytes: 100 }), (e: Error) => e.message === `${small}: 1584-byte file is over the 100-byte IDX data limit`);
  assert.throws(() => parseIdx(fs.readFileSync(small), small, IDX_IMAGES_MAGIC, { maxBytes: 1000 }), /dims \[2, 28, 28\], more than the 1000-byte IDX data limit/);
});

test('IDX gzip: inflation stops at the size the header declares, and the magic is checked first', async () => {
  const dir = tempDir();
  const { images } = writeIdxPair(dir, 'train', 1, { gzip: true });
  // ~67 KB of .gz that inflates to 64 MiB after a valid one-image header
  const bomb = gzipBomb(idxBytes([1, 28, 28], new Uint8Array(784)), 64);
  fs.writeFileSync(images, bomb);
  await assert.rejects(
    readIdxFile(images, IDX_IMAGES_MAGIC),
    (e: Error) => e.message === `${images}: gzip data inflates past the 800 bytes its IDX header declares (dims [1, 28, 28]); refusing the trailing data`,
  );
  // wrong magic followed by corrupt gzip: the magic error comes from the first inflated bytes, before the corruption
  const wrong = Buffer.concat([zlib.gzipSync(idxBytes([1 << 20], new Uint8Array(1 << 20))), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff])]);
  fs.writeFileSync(images, wrong);
  await assert.rejects(readIdxFile(images, IDX_IMAGES_MAGIC), (e: Error) => e.message === `${images}: wrong IDX magic number 0x00000801 at offset 0 (expected 0x00000803 = 2051)`);
  // the same corruption after a good header is still reported as corrupt gzip
  fs.writeFileSync(images, Buffer.concat([zlib.gzipSync(idxBytes([1 << 20], new Uint8Array(1 << 20))), wrong.subarray(-13)]));
  await assert.rejects(readIdxFile(images, IDX_LABELS_MAGIC), (e: Error) => e.message.startsWith(`${images}: corrupt or truncated gzip data (`) && !e.message.includes('\n'));
  // in-memory parsing has a fixed output cap
  assert.throws(() => parseIdx(bomb, 'mem.gz', IDX_IMAGES_MAGIC, { maxBytes: 1 << 20 }), (e: Error) => e.message === `mem.gz: gzip data inflates to more than the ${(1 << 20) + 1024}-byte limit; refusing it`);
});

// The real MNIST test split lives outside the repo (../shared from the project root); GAN_MNIST_DIR overrides.
const MNIST_DIR = process.env.GAN_MNIST_DIR ?? path.resolve(import.meta.dirname, '../../../../shared/datasets/mnist');
const haveMnist = fs.existsSync(path.join(MNIST_DIR, 't10k-images-idx3-ubyte.gz'));

test('real MNIST test split: 10,000 digits, known first labels, plausible ink statistics', { skip: haveMnist ? false : `real MNIST not found at ${MNIST_DIR} (skipping real-data check)` }, async () => {
  const ds = await openDataset({ name: 'mnist', root: MNIST_DIR, imageSize: 32, channels: 1, seed: 0, split: 'test' });
  assert.equal(ds.length, 10_000);
  assert.deepEqual([...ds.labels!.subarray(0, 10)], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  const counts = new Array(10).fill(0);
  for (const l of ds.labels!) counts[l]++;
  for (const c of counts) assert.ok(c > 800 && c < 1200);
  const out = new Float32Array(100 * ds.sampleSize);
  ds.read(Array.from({ length: 100 }, (_, i) => i), out);
  let ink = 0, corner = 0;
  for (let i = 0; i < 100; i++) {
    const img = out.subarray(i * ds.sampleSize, (i + 1) * ds.sampleSize);
    for (const v of img) if (v > 0) ink++;
    corner += img[0] + img[31] + img[31 * 32] + img[1023];
  }
  const frac = ink / out.length;
  assert.ok(frac > 0.08 && frac < 0.3, `fraction of inked pixels ${frac}`);
  assert.equal(corner, -400); // corners are background
  // gunzipped copies give the same data (the loader reads plain IDX too)
  const dir = tempDir();
  for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) fs.writeFileSync(path.join(dir, f), zlib.gunzipSync(fs.readFileSync(path.join(MNIST_DIR, `${f}.gz`))));
  const plain = await openDataset({ name: 'mnist', root: dir, imageSize: 32, channels: 1, seed: 0, split: 'test' });
  const o2 = new Float32Array(100 * ds.sampleSize);
  plain.read(Array.from({ length: 100 }, (_, i) => i), o2);
  assert.deepEqual(o2, out);
  fs.rmSync(dir, { recursive: true });
});
