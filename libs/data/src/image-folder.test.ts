// Tests of the image-folder dataset on PNG/JPEG files written with sharp into a temp dir: recursive listing,
// shorter-side resize + centre crop, gray/RGB conversion, labels from sub-folders, decode-once caching (memory
// and cache file), and bad input (corrupt PNG, empty folder, skipBadImages). Run:
// node tools/run-tests.mjs libs/data image-folder
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { clearImageFolderCache, createBatchStream, imageFolderStats, openDataset } from './index';
import { tempDir } from './test-util';

/** A w×h RGB image: left third red, middle third green, right third blue (so centre crops are recognisable). */
function stripes(w: number, h: number): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b[(y * w + x) * 3 + Math.min(2, Math.floor((3 * x) / w))] = 255;
  return b;
}

async function writeFolder(dir: string) {
  fs.mkdirSync(path.join(dir, 'a', 'deep'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'b'));
  // wide image: centre crop keeps the green middle stripe mostly
  await sharp(stripes(96, 32), { raw: { width: 96, height: 32, channels: 3 } }).png().toFile(path.join(dir, 'a', 'wide.png'));
  await sharp(stripes(40, 40), { raw: { width: 40, height: 40, channels: 3 } }).jpeg({ quality: 95 }).toFile(path.join(dir, 'a', 'deep', 'square.JPG'));
  await sharp(Buffer.alloc(20 * 30, 200), { raw: { width: 20, height: 30, channels: 1 } }).png().toFile(path.join(dir, 'b', 'gray.png'));
  await sharp({ create: { width: 16, height: 16, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } }).png().toFile(path.join(dir, 'b', 'alpha.png'));
  fs.writeFileSync(path.join(dir, 'b', 'notes.txt'), 'not an image');
}

test('folder: recursive PNG/JPEG listing, resize + centre crop, channels, labels from sub-folders', async () => {
  const dir = tempDir();
  await writeFolder(dir);
  const ds = (await openDataset({ name: 'folder', root: dir, imageSize: 16, channels: 3, seed: 0 })) as any;
  assert.equal(ds.length, 4);
  assert.deepEqual(ds.files, ['a/deep/square.JPG', 'a/wide.png', 'b/alpha.png', 'b/gray.png'].map((f) => f.split('/').join(path.sep)));
  assert.deepEqual([...ds.labels], [0, 0, 1, 1]);
  assert.deepEqual(ds.sampleShape, [16, 16, 3]);
  const out = new Float32Array(4 * ds.sampleSize);
  ds.read([0, 1, 2, 3], out);
  for (const v of out) assert.ok(v >= -1 && v <= 1);
  const px = (i: number, y: number, x: number) => Array.from(out.subarray(i * ds.sampleSize + (y * 16 + x) * 3, i * ds.sampleSize + (y * 16 + x) * 3 + 3));
  // wide.png 96×32 → 48×16 then centre 16 columns (x 16..31 of 48) are all green
  for (const x of [0, 8, 15]) assert.deepEqual(px(1, 8, x).map(Math.round), [-1, 1, -1]);
  // square JPEG keeps its three stripes
  assert.ok(px(0, 8, 1)[0] > 0.8 && px(0, 8, 8)[1] > 0.8 && px(0, 8, 14)[2] > 0.8);
  // gray PNG is replicated; half-transparent blue is flattened onto black
  const g = px(3, 5, 5);
  assert.ok(Math.abs(g[0] - ((200 * 2) / 255 - 1)) < 0.02 && g[0] === g[1] && g[1] === g[2]);
  const a = px(2, 5, 5);
  assert.ok(a[0] === -1 && a[1] === -1 && Math.abs(a[2]) < 0.05, `alpha pixel ${a}`);
  const gray = await openDataset({ name: 'folder', root: dir, imageSize: 16, channels: 1, seed: 0 });
  const o1 = new Float32Array(gray.sampleSize);
  gray.read([1], o1);
  assert.ok(Math.abs(o1[8 * 16 + 8] - ((0.587 * 255 * 2) / 255 - 1)) < 0.02); // green → 601 luma
});

test('folder: decoded once; later epochs, re-opens and a fresh process (cache file) do not decode again', async () => {
  const dir = tempDir();
  await writeFolder(dir);
  const cacheDir = tempDir();
  clearImageFolderCache();
  const d0 = imageFolderStats.decoded;
  const spec = { name: 'folder' as const, root: dir, imageSize: 8, channels: 3 as const, seed: 1, cacheDir };
  const ds = await openDataset(spec);
  assert.equal(imageFolderStats.decoded - d0, 4);
  const s = createBatchStream({ dataset: ds, batchSize: 3, rank: 0, worldSize: 1, seed: 1 });
  const first = [];
  for (let t = 0; t < 6; t++) first.push(await s.next()); // 18 samples = 4.5 epochs
  s.close();
  assert.equal(first[5].epoch, 3);
  assert.equal(imageFolderStats.decoded - d0, 4);
  const m0 = imageFolderStats.memoryHits;
  await openDataset(spec);
  assert.equal(imageFolderStats.memoryHits - m0, 1);
  clearImageFolderCache(); // as a new process would be
  const f0 = imageFolderStats.fileHits;
  const again = await openDataset(spec);
  assert.equal(imageFolderStats.fileHits - f0, 1);
  assert.equal(imageFolderStats.decoded - d0, 4);
  const a = new Float32Array(4 * ds.sampleSize), b = new Float32Array(4 * ds.sampleSize);
  ds.read([0, 1, 2, 3], a);
  again.read([0, 1, 2, 3], b);
  assert.deepEqual(b, a);
  // a changed file invalidates the cache
  clearImageFolderCache();
  await sharp(stripes(10, 10), { raw: { width: 10, height: 10, channels: 3 } }).png().toFile(path.join(dir, 'b', 'new.png'));
  const grown = await openDataset(spec);
  assert.equal(grown.length, 5);
  assert.equal(imageFolderStats.decoded - d0, 9);
});

test('folder bad input: corrupt PNG names the file; skipBadImages skips it with a warning; empty / missing folder', async () => {
  const dir = tempDir();
  await writeFolder(dir);
  const png = fs.readFileSync(path.join(dir, 'a', 'wide.png'));
  const bad = path.join(dir, 'b', 'broken.png');
  fs.writeFileSync(bad, png.subarray(0, 60)); // truncated inside the image data
  fs.writeFileSync(path.join(dir, 'b', 'garbage.jpg'), 'this is not a jpeg');
  clearImageFolderCache();
  await assert.rejects(
    openDataset({ name: 'folder', root: dir, imageSize: 8, channels: 3, seed: 0 }),
    (e: Error) => /folder: cannot decode image .*b[/\\](broken\.png|garbage\.jpg): /.test(e.message),
  );
  const warns: { obj: any; msg: string }[] = [];
  const logger = { warn: (obj: object, msg: string) => { warns.push({ obj, msg }); }, info: () => {} };
  const ds = (await openDataset({ name: 'folder', root: dir, imageSize: 8, channels: 3, seed: 0, skipBadImages: true, logger })) as any;
  assert.equal(ds.length, 4);
  assert.ok(!ds.files.some((f: string) => f.includes('broken') || f.includes('garbage')));
  const skipped = warns.filter((w) => w.obj.file).map((w) => path.basename(w.obj.file)).sort();
  assert.deepEqual(skipped, ['broken.png', 'garbage.jpg']);
  assert.ok(warns.some((w) => /skipped 2 bad images of 6/.test(w.msg)));

  const empty = tempDir();
  fs.mkdirSync(path.join(empty, 'sub'));
  fs.writeFileSync(path.join(empty, 'sub', 'readme.txt'), 'x');
  await assert.rejects(openDataset({ name: 'folder', root: empty, imageSize: 8, channels: 3, seed: 0 }), /folder: no PNG or JPEG images under .*gan-data-/);
  await assert.rejects(openDataset({ name: 'folder', root: path.join(empty, 'nope'), imageSize: 8, channels: 3, seed: 0 }), /nope does not exist/);
  await assert.rejects(openDataset({ name: 'folder', imageSize: 8, channels: 3, seed: 0 }), /spec\.root \(the image folder\) is required/);
  const allBad = tempDir();
  fs.writeFileSync(path.join(allBad, 'x.png'), 'nope');
  await assert.rejects(openDataset({ name: 'folder', root: allBad, imageSize: 8, channels: 3, seed: 0, skipBadImages: true, logger }), /none of the 1 images .* could be decoded/);
});
