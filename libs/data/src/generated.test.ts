// Tests of the generated datasets (ring8, grid25, shapes) and the PRNG: determinism in (seed, i), value ranges,
// shapes, mode statistics. Run: node tools/run-tests.mjs libs/data generated
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDataset, permutation, toyModes } from './index';
import { hashSeed } from './prng';

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test('hashSeed and permutation are deterministic and seed-sensitive', () => {
  assert.equal(hashSeed(1, 2, 3), hashSeed(1, 2, 3));
  assert.notEqual(hashSeed(1, 2), hashSeed(2, 1));
  assert.notEqual(hashSeed(2 ** 40), hashSeed(0));
  const p = permutation(1000, 7);
  assert.deepEqual(p, permutation(1000, 7));
  assert.notDeepEqual(p, permutation(1000, 8));
  assert.deepEqual([...p].sort((a, b) => a - b), range(0, 1000));
});

for (const name of ['ring8', 'grid25'] as const) {
  test(`${name}: deterministic per index, samples near the modes with the documented σ`, async () => {
    const ds = await openDataset({ name, seed: 3, imageSize: 0, channels: 1, length: 20_000 });
    assert.equal(ds.kind, 'points');
    assert.deepEqual(ds.sampleShape, [2]);
    assert.equal(ds.length, 20_000);
    const { modes, std } = toyModes(name);
    assert.deepEqual(ds.modes, modes);
    assert.equal(ds.modeStd, std);
    const idx = range(0, 20_000);
    const a = new Float32Array(2 * idx.length);
    ds.read(idx, a);
    // Reading a scattered subset gives exactly the same values as reading everything (sample = f(seed, i)).
    const sub = [19_999, 5, 1234, 5];
    const b = new Float32Array(8);
    ds.read(sub, b);
    sub.forEach((i, j) => {
      assert.equal(b[2 * j], a[2 * i]);
      assert.equal(b[2 * j + 1], a[2 * i + 1]);
    });
    const other = await openDataset({ name, seed: 4, imageSize: 0, channels: 1, length: 20_000 });
    const c = new Float32Array(2 * 100);
    other.read(range(0, 100), c);
    assert.notDeepEqual(c, a.subarray(0, 200));
    // Every sample is within 6σ of its nearest mode; every mode is used; the per-axis spread matches σ.
    const k = modes.length / 2;
    const counts = new Array(k).fill(0);
    let sq = 0;
    for (let i = 0; i < idx.length; i++) {
      let best = Infinity, bi = -1;
      for (let m = 0; m < k; m++) {
        const d = (a[2 * i] - modes[2 * m]) ** 2 + (a[2 * i + 1] - modes[2 * m + 1]) ** 2;
        if (d < best) { best = d; bi = m; }
      }
      assert.ok(Math.sqrt(best) < 6 * std * Math.SQRT2, `sample ${i} is ${Math.sqrt(best)} from every mode`);
      counts[bi]++;
      sq += best;
    }
    for (const n of counts) assert.ok(n > (idx.length / k) * 0.8 && n < (idx.length / k) * 1.2, `mode counts ${counts}`);
    const est = Math.sqrt(sq / (2 * idx.length));
    assert.ok(Math.abs(est - std) / std < 0.05, `estimated σ ${est} vs ${std}`);
  });
}

test('toy sets: default length, bad index and short output buffer are clear errors', async () => {
  const ds = await openDataset({ name: 'ring8', seed: 0, imageSize: 0, channels: 1 });
  assert.equal(ds.length, 100_000);
  assert.throws(() => ds.read([100_000], new Float32Array(2)), /index 100000 .*outside \[0, 100000\)/);
  assert.throws(() => ds.read([-1], new Float32Array(2)), /index -1/);
  assert.throws(() => ds.read([0, 1], new Float32Array(3)), /needs 2 × 2 = 4/);
});

for (const [S, C] of [[28, 1], [32, 3], [64, 3]] as const) {
  test(`shapes ${S}×${S}×${C}: shape, range, determinism, visible content`, async () => {
    const ds = await openDataset({ name: 'shapes', seed: 11, imageSize: S, channels: C, length: 500 });
    assert.equal(ds.kind, 'image');
    assert.deepEqual(ds.sampleShape, [S, S, C]);
    assert.equal(ds.sampleSize, S * S * C);
    assert.equal(ds.labels!.length, 500);
    const idx = range(0, 64);
    const a = new Float32Array(idx.length * ds.sampleSize);
    await ds.read(idx, a);
    for (const v of a) assert.ok(v >= -1 && v <= 1 && Number.isFinite(v), `value ${v}`);
    const b = new Float32Array(ds.sampleSize);
    await ds.read([37], b);
    assert.deepEqual(b, a.subarray(37 * ds.sampleSize, 38 * ds.sampleSize));
    for (let j = 0; j < idx.length; j++) {
      const img = a.subarray(j * ds.sampleSize, (j + 1) * ds.sampleSize);
      // Each image has a shape on a plain background: a clear contrast, and a bg colour covering most pixels.
      let min = Infinity, max = -Infinity;
      for (const v of img) { min = Math.min(min, v); max = Math.max(max, v); }
      assert.ok(max - min > 0.4, `image ${j} has contrast ${max - min}`);
      const corner = img[0];
      let same = 0;
      for (let p = 0; p < S * S; p++) if (Math.abs(img[p * C] - corner) < 1e-6) same++;
      assert.ok(same > 0.4 * S * S && same < 0.97 * S * S, `image ${j}: ${same} background pixels of ${S * S}`);
    }
    const classes = new Set(ds.labels);
    assert.deepEqual([...classes].sort(), [0, 1, 2]);
    const other = await openDataset({ name: 'shapes', seed: 12, imageSize: S, channels: C, length: 500 });
    const c = new Float32Array(ds.sampleSize);
    await other.read([37], c);
    assert.notDeepEqual(c, b);
  });
}

test('openDataset rejects bad specs with clear messages', async () => {
  await assert.rejects(openDataset({ name: 'nope' as any, seed: 0, imageSize: 32, channels: 3 }), /unknown dataset 'nope'/);
  await assert.rejects(openDataset({ name: 'shapes', seed: 0, imageSize: 5, channels: 3 }), /imageSize/);
  await assert.rejects(openDataset({ name: 'shapes', seed: 0, imageSize: 32, channels: 2 as any }), /channels must be 1 or 3/);
  await assert.rejects(openDataset({ name: 'ring8', seed: 0, imageSize: 0, channels: 1, length: 0 }), /length must be a positive integer/);
});
