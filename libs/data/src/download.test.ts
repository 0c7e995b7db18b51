// Tests of verified downloads against an HTTP server on 127.0.0.1 serving files the test writes (reached with
// allowHttp: true; without it plain http is refused): a SHA-256 match is kept, a mismatch is a clear error and
// leaves no file, an MD5 match alone is kept only as UNVERIFIED, redirects and sizes are checked, HTTP errors name
// the URL; openDataset(download: true) fetches the MNIST files (the real t10k pair when ../shared has it).
// Run: node tools/run-tests.mjs libs/data download
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { downloadVerified, openDataset } from './index';
import { tempDir, writeIdxPair } from './test-util';

let server: http.Server;
let base: string;
const served = tempDir('gan-data-served-');
const hits: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url!);
    const redirect = /[?&]to=([^&]+)/.exec(req.url!);
    if (redirect) {
      res.writeHead(302, { location: decodeURIComponent(redirect[1]) }).end();
      return;
    }
    const file = path.join(served, decodeURIComponent(req.url!.split('?')[0]).replace(/^\/+/, ''));
    if (!file.startsWith(served) || !fs.existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    const length = req.url!.includes('?length') ? { 'content-length': String(fs.statSync(file).size) } : {};
    res.writeHead(200, { 'content-type': 'application/octet-stream', ...length });
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
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
function logger() {
  const warns: string[] = [];
  return { warns, warn: (_o: object, m: string) => { warns.push(m); }, info: () => {} };
}

test('downloadVerified keeps a file whose sha256 matches', async () => {
  const body = crypto.randomBytes(100_000);
  fs.writeFileSync(path.join(served, 'good.bin'), body);
  const dest = path.join(tempDir(), 'sub', 'good.bin');
  const log = logger();
  const got = await downloadVerified({ url: base + 'good.bin', dest, checksum: { sha256: sha256(body) }, allowHttp: true, logger: log });
  assert.equal(got.sha256, sha256(body));
  assert.deepEqual(fs.readFileSync(dest), body);
  assert.deepEqual(fs.readdirSync(path.dirname(dest)), ['good.bin']); // no .part left behind
  assert.doesNotMatch(log.warns.join('\n'), /UNVERIFIED/);
});

test('downloadVerified: sha256 mismatch is a clear error and nothing is kept, even when the md5 matches', async () => {
  const body = Buffer.from('not what you wanted');
  fs.writeFileSync(path.join(served, 'bad.bin'), body);
  const dir = tempDir();
  const dest = path.join(dir, 'bad.bin');
  await assert.rejects(
    downloadVerified({ url: base + 'bad.bin', dest, checksum: { sha256: '1'.repeat(64), md5: md5(body) }, allowHttp: true }),
    (e: Error) => new RegExp(`^checksum mismatch for http://127\\.0\\.0\\.1:\\d+/bad\\.bin: got sha256 ${sha256(body)}, expected sha256 1{64}; the file was not kept$`).test(e.message),
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('downloadVerified: an md5 match alone is kept but logged as UNVERIFIED; an md5 mismatch is refused', async () => {
  const body = crypto.randomBytes(1000);
  fs.writeFileSync(path.join(served, 'md5only.bin'), body);
  const log = logger();
  const dest = path.join(tempDir(), 'md5only.bin');
  await downloadVerified({ url: base + 'md5only.bin', dest, checksum: { md5: md5(body) }, allowHttp: true, logger: log });
  assert.ok(fs.existsSync(dest));
  assert.match(log.warns.join('\n'), new RegExp(`UNVERIFIED download md5only\\.bin: it matches its published MD5, but no SHA-256 is pinned .*sha256 ${sha256(body)}`));
  const dir = tempDir();
  await assert.rejects(
    downloadVerified({ url: base + 'md5only.bin', dest: path.join(dir, 'x.bin'), checksum: { md5: '0'.repeat(32) }, allowHttp: true }),
    new RegExp(`^Error: checksum mismatch for .*md5only\\.bin: got md5 ${md5(body)}, expected the published md5 0{32}; the file was not kept$`),
  );
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('downloadVerified: unknown checksum warns UNVERIFIED and keeps; HTTP 404 names the URL', async () => {
  fs.writeFileSync(path.join(served, 'unknown.bin'), 'x');
  const log = logger();
  const dest = path.join(tempDir(), 'unknown.bin');
  await downloadVerified({ url: base + 'unknown.bin', dest, logger: log, allowHttp: true });
  assert.ok(fs.existsSync(dest));
  assert.match(log.warns.join('\n'), /UNVERIFIED download unknown\.bin: no checksum is known for it/);
  assert.match(log.warns.join('\n'), /over plain http \(--allow-http\)/);
  const dir = tempDir();
  await assert.rejects(downloadVerified({ url: base + 'missing.bin', dest: path.join(dir, 'm.bin'), allowHttp: true }), /download http:\/\/127\.0\.0\.1:\d+\/missing\.bin failed: HTTP 404/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('downloadVerified: plain http is refused without allowHttp (no request made), other schemes always', async () => {
  fs.writeFileSync(path.join(served, 'plain.bin'), 'x');
  const dir = tempDir();
  const dest = path.join(dir, 'sub', 'plain.bin');
  const before = hits.length;
  await assert.rejects(
    downloadVerified({ url: base + 'plain.bin', dest }),
    /^Error: download http:\/\/127\.0\.0\.1:\d+\/plain\.bin refused: plain http is not allowed \(.*\); use an https URL or pass --allow-http$/,
  );
  assert.equal(hits.length, before);
  assert.deepEqual(fs.readdirSync(dir), []);
  await assert.rejects(downloadVerified({ url: 'file:///etc/hostname', dest, allowHttp: true }), /refused: only https URLs \(or http with --allow-http\) are fetched, got file:/);
  await assert.rejects(downloadVerified({ url: 'not a url', dest, allowHttp: true }), /refused: 'not a url' is not a valid URL/);
});

test('downloadVerified: every redirect hop is checked; a redirect to http needs allowHttp too', async () => {
  const body = crypto.randomBytes(500);
  fs.writeFileSync(path.join(served, 'target.bin'), body);
  const dir = tempDir();
  const dest = path.join(dir, 'r.bin');
  const got = await downloadVerified({ url: `${base}r?to=${encodeURIComponent(base + 'target.bin')}`, dest, checksum: { sha256: sha256(body) }, allowHttp: true });
  assert.equal(got.sha256, sha256(body));
  await assert.rejects(
    downloadVerified({ url: `${base}r?to=${encodeURIComponent('file:///etc/hostname')}`, dest: path.join(dir, 'f.bin'), allowHttp: true }),
    /^Error: download http:\S+ \(redirected to file:\/\/\/etc\/hostname\) refused: only https URLs/,
  );
  let chain = base + 'target.bin';
  for (let i = 0; i < 6; i++) chain = `${base}r?to=${encodeURIComponent(chain)}`;
  await assert.rejects(downloadVerified({ url: chain, dest: path.join(dir, 'l.bin'), allowHttp: true }), /failed: more than 5 redirects$/);
  assert.deepEqual(fs.readdirSync(dir), ['r.bin']);
});

test('downloadVerified: a download over maxBytes is refused, by Content-Length or while streaming', async () => {
  fs.writeFileSync(path.join(served, 'big.bin'), crypto.randomBytes(50_000));
  const dir = tempDir();
  for (const q of ['', '?length']) {
    await assert.rejects(
      downloadVerified({ url: `${base}big.bin${q}`, dest: path.join(dir, 'big.bin'), maxBytes: 10_000, allowHttp: true }),
      /^Error: download http:\S+big\.bin\S* refused: larger than the 10000-byte download limit$/,
    );
  }
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('downloadVerified: the uncompressed sha256 check inflates at most rawBytes', async () => {
  const bomb = zlib.gzipSync(Buffer.alloc(8 << 20));
  fs.writeFileSync(path.join(served, 'bomb.gz'), bomb);
  const dir = tempDir();
  await assert.rejects(
    downloadVerified({ url: base + 'bomb.gz', dest: path.join(dir, 'bomb.gz'), checksum: { rawSha256: '2'.repeat(64), rawBytes: 1000 }, allowHttp: true }),
    /got sha256 [0-9a-f]{64}, uncompressed sha256 none \(inflates past 1000 bytes\), expected uncompressed sha256 2{64}; the file was not kept$/,
  );
  const content = Buffer.from('hello idx');
  fs.writeFileSync(path.join(served, 'ok.gz'), zlib.gzipSync(content));
  await downloadVerified({ url: base + 'ok.gz', dest: path.join(dir, 'ok.gz'), checksum: { rawSha256: sha256(content), rawBytes: content.length }, allowHttp: true });
  assert.deepEqual(fs.readdirSync(dir), ['ok.gz']);
});

test('openDataset(mnist, download): a file that does not match the canonical MNIST md5 is rejected and not kept', async () => {
  const src = tempDir();
  writeIdxPair(src, 't10k', 5, { gzip: true });
  const mirror = path.join(served, 'fake-mnist');
  fs.mkdirSync(mirror);
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(mirror, f));
  const cache = tempDir();
  await assert.rejects(
    openDataset({ name: 'mnist', root: cache, imageSize: 28, channels: 1, seed: 0, split: 'test', download: true, allowHttp: true, baseUrl: base + 'fake-mnist' }),
    /checksum mismatch for .*fake-mnist\/t10k-images-idx3-ubyte\.gz.*expected uncompressed sha256 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7; the file was not kept/,
  );
  assert.deepEqual(fs.readdirSync(cache), []);
  // openDataset passes allowHttp down: without it the http mirror is refused
  await assert.rejects(
    openDataset({ name: 'mnist', root: cache, imageSize: 28, channels: 1, seed: 0, split: 'test', download: true, baseUrl: base + 'fake-mnist' }),
    /t10k-images-idx3-ubyte\.gz refused: plain http is not allowed/,
  );
});

test('openDataset(kmnist, download) with no sha256 known: the synthetic pair fails the published md5', async () => {
  const src = tempDir();
  writeIdxPair(src, 'train', 3, { gzip: true });
  const mirror = path.join(served, 'fake-kmnist');
  fs.mkdirSync(mirror);
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(mirror, f));
  const cache = tempDir();
  await assert.rejects(
    openDataset({ name: 'kmnist', root: cache, imageSize: 28, channels: 1, seed: 0, download: true, allowHttp: true, baseUrl: base + 'fake-kmnist' }),
    /checksum mismatch .*expected the published md5 bdb82020997e1d708af4cf47b453dcf7; the file was not kept/,
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
  const log = logger();
  const spec = { name: 'mnist' as const, root, cacheDir, logger: log, imageSize: 28, channels: 1 as const, seed: 0, split: 'test' as const, download: true, allowHttp: true, baseUrl: base + 'mnist/' };
  const before = hits.length;
  const ds = await openDataset(spec);
  assert.equal(ds.length, 10_000);
  assert.deepEqual([...ds.labels!.subarray(0, 4)], [7, 2, 1, 0]);
  assert.deepEqual(fs.readdirSync(cacheDir).sort(), ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']);
  assert.equal(hits.length - before, 2);
  assert.doesNotMatch(log.warns.join('\n'), /UNVERIFIED/, 'the t10k pair must verify by its pinned uncompressed sha256');
  await openDataset(spec);
  assert.equal(hits.length - before, 2, 'second open must use the cached files');
});
