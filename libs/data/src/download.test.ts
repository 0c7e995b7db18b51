// Tests of verified downloads against an HTTP server on 127.0.0.1 serving files the test writes: a good file
// is kept, a checksum mismatch is a clear error and leaves no file, an unknown checksum warns, HTTP errors name
// the URL; openDataset(download: true) fetches the MNIST files (the real t10k pair when ../shared has it).
// Run: node tools/run-tests.mjs libs/data download
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { downloadVerified, openDataset } from './index';
import { tempDir, writeIdxPair } from './test-util';

let server: http.Server;
let base: string;
const served = tempDir('gan-data-served-');
const hits: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url!);
    const file = path.join(served, decodeURIComponent(req.url!.split('?')[0]).replace(/^\/+/, ''));
    if (!file.startsWith(served) || !fs.existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const md5 = (b: Buffer) => crypto.createHash('md5').update(b).digest('hex');
function logger() {
  const warns: string[] = [];
  return { warns, warn: (_o: object, m: string) => { warns.push(m); }, info: () => {} };
}

test('downloadVerified keeps a file whose md5 matches', async () => {
  const body = crypto.randomBytes(100_000);
  fs.writeFileSync(path.join(served, 'good.bin'), body);
  const dest = path.join(tempDir(), 'sub', 'good.bin');
  const got = await downloadVerified({ url: base + 'good.bin', dest, checksum: { md5: md5(body) } });
  assert.equal(got.md5, md5(body));
  assert.deepEqual(fs.readFileSync(dest), body);
  assert.deepEqual(fs.readdirSync(path.dirname(dest)), ['good.bin']); // no .part left behind
});

test('downloadVerified: checksum mismatch is a clear error and nothing is kept', async () => {
  fs.writeFileSync(path.join(served, 'bad.bin'), 'not what you wanted');
  const dir = tempDir();
  const dest = path.join(dir, 'bad.bin');
  await assert.rejects(
    downloadVerified({ url: base + 'bad.bin', dest, checksum: { md5: '0'.repeat(32), sha256: '1'.repeat(64) } }),
    (e: Error) => /checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/bad\.bin: got md5 [0-9a-f]{32}, expected md5 0{32} or sha256 1{64}; the file was not kept/.test(e.message),
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('downloadVerified: unknown checksum warns and keeps; HTTP 404 names the URL', async () => {
  fs.writeFileSync(path.join(served, 'unknown.bin'), 'x');
  const log = logger();
  const dest = path.join(tempDir(), 'unknown.bin');
  await downloadVerified({ url: base + 'unknown.bin', dest, logger: log });
  assert.ok(fs.existsSync(dest));
  assert.match(log.warns.join('\n'), /no known checksum for unknown\.bin/);
  const dir = tempDir();
  await assert.rejects(downloadVerified({ url: base + 'missing.bin', dest: path.join(dir, 'm.bin') }), /download http:\/\/127\.0\.0\.1:\d+\/missing\.bin failed: HTTP 404/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('openDataset(mnist, download): a file that does not match the canonical MNIST md5 is rejected and not kept', async () => {
  const src = tempDir();
  writeIdxPair(src, 't10k', 5, { gzip: true });
  const mirror = path.join(served, 'fake-mnist');
  fs.mkdirSync(mirror);
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(mirror, f));
  const cache = tempDir();
  await assert.rejects(
    openDataset({ name: 'mnist', root: cache, imageSize: 28, channels: 1, seed: 0, split: 'test', download: true, baseUrl: base + 'fake-mnist' }),
    /checksum mismatch for .*fake-mnist\/t10k-images-idx3-ubyte\.gz.*expected md5 9fb629c4189551a2d022fa330f9573f3 or uncompressed md5 2646ac647ad5339dbf082846283269ea; the file was not kept/,
  );
  assert.deepEqual(fs.readdirSync(cache), []);
});

test('openDataset(kmnist, download) with no uncompressed checksum known: the synthetic pair fails the canonical md5', async () => {
  const src = tempDir();
  writeIdxPair(src, 'train', 3, { gzip: true });
  const mirror = path.join(served, 'fake-kmnist');
  fs.mkdirSync(mirror);
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(mirror, f));
  const cache = tempDir();
  await assert.rejects(
    openDataset({ name: 'kmnist', root: cache, imageSize: 28, channels: 1, seed: 0, download: true, baseUrl: base + 'fake-kmnist' }),
    /checksum mismatch .*expected md5 bdb82020997e1d708af4cf47b453dcf7; the file was not kept/,
  );
});

// The real MNIST test split lives outside the repo (../shared from the project root); GAN_MNIST_DIR overrides.
const MNIST_DIR = process.env.GAN_MNIST_DIR ?? path.resolve(import.meta.dirname, '../../../../shared/datasets/mnist');
const haveMnist = fs.existsSync(path.join(MNIST_DIR, 't10k-images-idx3-ubyte.gz'));

test('openDataset(mnist, download) fetches and verifies the real t10k pair from a local mirror, then reuses the cache', { skip: haveMnist ? false : `real MNIST not found at ${MNIST_DIR} (skipping real download check)` }, async () => {
  const mirror = path.join(served, 'mnist');
  fs.mkdirSync(mirror);
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) fs.copyFileSync(path.join(MNIST_DIR, f), path.join(mirror, f));
  const root = tempDir();
  const cacheDir = path.join(root, 'cache');
  const spec = { name: 'mnist' as const, root, cacheDir, imageSize: 28, channels: 1 as const, seed: 0, split: 'test' as const, download: true, baseUrl: base + 'mnist/' };
  const before = hits.length;
  const ds = await openDataset(spec);
  assert.equal(ds.length, 10_000);
  assert.deepEqual([...ds.labels!.subarray(0, 4)], [7, 2, 1, 0]);
  assert.deepEqual(fs.readdirSync(cacheDir).sort(), ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']);
  assert.equal(hits.length - before, 2);
  await openDataset(spec);
  assert.equal(hits.length - before, 2, 'second open must use the cached files');
});
