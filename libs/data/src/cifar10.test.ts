// Tests of the CIFAR-10 binary reader on batch files the test writes: CHW→HWC order, labels, gray conversion,
// resize, the train/test file sets, archive extraction (bounded inflation), and bad input (truncated record,
// bad label, missing batch, empty file). Run: node tools/run-tests.mjs libs/data cifar10
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { CIFAR10_TAR_MAX_BYTES, cifarFileNames, extractBinMembers, openDataset } from './index';
import { gzipBomb, tempDir } from './test-util';

/** A batch of n records: label (k + i) % 10; R plane = x*8, G plane = y*8, B plane = (i*13) % 256. */
function cifarBatch(n: number, k: number): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) {
    const o = i * 3073;
    b[o] = (k + i) % 10;
    for (let p = 0; p < 1024; p++) {
      b[o + 1 + p] = (p % 32) * 8;
      b[o + 1 + 1024 + p] = Math.floor(p / 32) * 8;
      b[o + 1 + 2048 + p] = (i * 13) % 256;
    }
  }
  return b;
}

function writeCifar(dir: string, perBatch = 3) {
  cifarFileNames('train').forEach((f, k) => fs.writeFileSync(path.join(dir, f), cifarBatch(perBatch, k)));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarBatch(2, 7));
}

const v = (byte: number) => (byte * 2) / 255 - 1;

test('CIFAR-10: 5 train batches concatenated, HWC order, labels, test split', async () => {
  const dir = tempDir();
  writeCifar(dir);
  const ds = await openDataset({ name: 'cifar10', root: dir, imageSize: 32, channels: 3, seed: 0 });
  assert.equal(ds.length, 15);
  assert.deepEqual(ds.sampleShape, [32, 32, 3]);
  assert.deepEqual([...ds.labels!], [0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6]);
  const out = new Float32Array(ds.sampleSize);
  ds.read([4], out); // batch 2, record 1
  for (const [y, x] of [[0, 0], [3, 17], [31, 31]]) {
    const o = (y * 32 + x) * 3;
    assert.ok(Math.abs(out[o] - v(x * 8)) < 1e-6);
    assert.ok(Math.abs(out[o + 1] - v(y * 8)) < 1e-6);
    assert.ok(Math.abs(out[o + 2] - v(13)) < 1e-6);
  }
  const test = await openDataset({ name: 'cifar10', root: dir, imageSize: 32, channels: 3, seed: 0, split: 'test' });
  assert.deepEqual([...test.labels!], [7, 8]);
});

test('CIFAR-10: grayscale 601 luma and resize to 64; found under cifar-10-batches-bin too', async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'cifar-10-batches-bin'));
  writeCifar(path.join(dir, 'cifar-10-batches-bin'), 1);
  const g = await openDataset({ name: 'cifar10', root: dir, imageSize: 32, channels: 1, seed: 0 });
  const out = new Float32Array(g.sampleSize);
  g.read([0], out);
  const y = 5, x = 9;
  assert.ok(Math.abs(out[y * 32 + x] - ((0.299 * x * 8 + 0.587 * y * 8 + 0.114 * 0) * 2) / 255 + 1) < 1e-5);
  const big = await openDataset({ name: 'cifar10', root: dir, imageSize: 64, channels: 3, seed: 0 });
  assert.deepEqual(big.sampleShape, [64, 64, 3]);
  const o2 = new Float32Array(big.sampleSize);
  big.read([1], o2);
  for (const val of o2) assert.ok(val >= -1 && val <= 1);
});

test('CIFAR-10 bad input: truncated record, bad label, missing batch, empty file', async () => {
  const open = (root: string) => openDataset({ name: 'cifar10', root, imageSize: 32, channels: 3, seed: 0 });
  let dir = tempDir();
  writeCifar(dir);
  const f3 = path.join(dir, 'data_batch_3.bin');
  fs.truncateSync(f3, 3073 * 2 + 100);
  await assert.rejects(open(dir), (e: Error) => e.message.includes(f3) && /truncated CIFAR-10 record 2 at offset 6146/.test(e.message));
  dir = tempDir();
  writeCifar(dir);
  const f2 = path.join(dir, 'data_batch_2.bin');
  const b = fs.readFileSync(f2);
  b[3073] = 200;
  fs.writeFileSync(f2, b);
  await assert.rejects(open(dir), (e: Error) => e.message.includes(f2) && /record 1 \(offset 3073\) has label 200/.test(e.message));
  dir = tempDir();
  writeCifar(dir);
  fs.rmSync(path.join(dir, 'data_batch_5.bin'));
  await assert.rejects(open(dir), /cifar10: data_batch_5\.bin not found/);
  fs.writeFileSync(path.join(dir, 'data_batch_5.bin'), '');
  await assert.rejects(open(dir), /data_batch_5\.bin: empty CIFAR-10 batch file/);
});

const haveTar = spawnSync('tar', ['--version']).status === 0;

test('CIFAR-10: extracts the .bin members of a tar.gz archive (flat, nothing else)', { skip: haveTar ? false : 'no tar binary to build a test archive' }, async () => {
  const src = tempDir();
  const inner = path.join(src, 'cifar-10-batches-bin');
  fs.mkdirSync(inner);
  writeCifar(inner, 2);
  fs.writeFileSync(path.join(inner, 'batches.meta.txt'), 'airplane\n');
  const archive = path.join(tempDir(), 'cifar-10-binary.tar.gz');
  assert.equal(spawnSync('tar', ['-czf', archive, '-C', src, 'cifar-10-batches-bin']).status, 0);
  const out = tempDir();
  const names = extractBinMembers(archive, out);
  assert.deepEqual(names.sort(), [...cifarFileNames('train'), 'test_batch.bin'].sort());
  assert.deepEqual(fs.readdirSync(out).sort(), names.sort());
  const ds = await openDataset({ name: 'cifar10', root: out, imageSize: 32, channels: 3, seed: 0 });
  assert.equal(ds.length, 10);
});

test('CIFAR-10 archive: inflation is capped, a tar over the cap and corrupt gzip are one-line errors', () => {
  assert.equal(CIFAR10_TAR_MAX_BYTES, 256 * 1024 * 1024);
  const dir = tempDir();
  const archive = path.join(dir, 'cifar-10-binary.tar.gz');
  fs.writeFileSync(archive, gzipBomb(Buffer.alloc(512), 8));
  const out = tempDir();
  assert.throws(() => extractBinMembers(archive, out, 4 << 20), (e: Error) => e.message === `${archive}: gzip data inflates to more than the 4194304-byte CIFAR-10 archive limit; refusing it`);
  assert.deepEqual(fs.readdirSync(out), []);
  const tar = path.join(dir, 'plain.tar');
  fs.writeFileSync(tar, Buffer.alloc(8192));
  assert.throws(() => extractBinMembers(tar, out, 4096), (e: Error) => e.message === `${tar}: 8192-byte tar is over the 4096-byte CIFAR-10 archive limit`);
  const bytes = zlib.gzipSync(Buffer.alloc(100_000, 7));
  fs.writeFileSync(archive, bytes.subarray(0, bytes.length - 20));
  assert.throws(() => extractBinMembers(archive, out), (e: Error) => e.message.startsWith(`${archive}: corrupt or truncated gzip data (`) && !e.message.includes('\n'));
});
