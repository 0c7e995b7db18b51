// Tests of DistributedSampler (partition / cover / padding / determinism) and the batch stream (purity in the
// step, resume equality, epoch crossing, prefetch, waitMs). Run: node tools/run-tests.mjs libs/data sampler
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DistributedSampler, batchIndices, createBatchStream, openDataset } from './index';
import type { Dataset } from './index';

function shards(length: number, worldSize: number, dropLast: boolean, epoch = 0, seed = 5) {
  return Array.from({ length: worldSize }, (_, rank) => {
    const s = new DistributedSampler({ length, worldSize, rank, seed, dropLast });
    s.setEpoch(epoch);
    return s;
  });
}

test('sampler without dropLast: equal shard sizes, every index covered, padding wraps the head', () => {
  for (const [n, w] of [[10, 3], [12, 4], [7, 7], [5, 8], [1000, 6]]) {
    const ss = shards(n, w, false);
    const all = ss.map((s) => s.indices());
    const per = Math.ceil(n / w);
    for (const a of all) assert.equal(a.length, per);
    const seen = new Set<number>();
    for (const a of all) for (const i of a) { assert.ok(i >= 0 && i < n); seen.add(i); }
    assert.equal(seen.size, n, `n=${n} w=${w}: cover`);
    // Interleaving the shards gives back the padded global order: a permutation, then its head again.
    const global: number[] = [];
    for (let k = 0; k < per; k++) for (let r = 0; r < w; r++) global.push(all[r][k]);
    assert.deepEqual([...global.slice(0, n)].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    for (let p = n; p < global.length; p++) assert.equal(global[p], global[p % n]);
  }
});

test('sampler with dropLast: disjoint shards of floor(n / w) indices', () => {
  for (const [n, w] of [[10, 3], [12, 4], [1001, 8]]) {
    const all = shards(n, w, true).map((s) => s.indices());
    const seen = new Set<number>();
    for (const a of all) {
      assert.equal(a.length, Math.floor(n / w));
      for (const i of a) { assert.ok(!seen.has(i), `index ${i} on two ranks`); seen.add(i); }
    }
    assert.equal(seen.size, Math.floor(n / w) * w);
  }
  assert.throws(() => new DistributedSampler({ length: 3, worldSize: 4, rank: 0, seed: 0, dropLast: true }), /leaves every rank empty/);
});

test('sampler: deterministic per (seed, epoch), reshuffles across epochs, shuffle=false is in order', () => {
  const a = new DistributedSampler({ length: 100, worldSize: 2, rank: 1, seed: 9 });
  const b = new DistributedSampler({ length: 100, worldSize: 2, rank: 1, seed: 9 });
  a.setEpoch(3); b.setEpoch(3);
  assert.deepEqual(a.indices(), b.indices());
  b.setEpoch(4);
  assert.notDeepEqual(a.indices(), b.indices());
  const c = new DistributedSampler({ length: 10, worldSize: 3, rank: 2, seed: 0, shuffle: false });
  assert.deepEqual([...c.indices()], [2, 5, 8, 1]);
  assert.equal(c.numSamples, 4);
  assert.throws(() => new DistributedSampler({ length: 10, worldSize: 2, rank: 2, seed: 0 }), /rank 2 is outside \[0, 2\)/);
});

/** A dataset whose sample i is the single float i, so batches show their indices. */
function indexDataset(length: number, delayMs = 0): Dataset & { reads: number } {
  const ds = {
    name: 'index', kind: 'points' as const, length, sampleShape: [1], sampleSize: 1, reads: 0,
    async read(indices: ArrayLike<number>, out: Float32Array) {
      ds.reads++;
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      for (let j = 0; j < indices.length; j++) out[j] = indices[j];
    },
  };
  return ds;
}

test('batch stream: a resumed stream yields exactly the batches of an uninterrupted one', async () => {
  const ds = await openDataset({ name: 'shapes', seed: 1, imageSize: 16, channels: 3, length: 37 });
  const opts = { dataset: ds, batchSize: 5, rank: 1, worldSize: 3, seed: 42 };
  const straight = createBatchStream(opts);
  const ref = [];
  for (let t = 0; t < 12; t++) ref.push(await straight.next());
  straight.close();
  for (const startStep of [0, 3, 7, 11]) {
    const resumed = createBatchStream({ ...opts, startStep, prefetch: startStep % 2 ? 0 : 3 });
    for (let t = startStep; t < 12; t++) {
      const b = await resumed.next();
      assert.equal(b.step, t);
      assert.equal(b.epoch, ref[t].epoch);
      assert.deepEqual(b.indices, ref[t].indices);
      assert.deepEqual(b.data, ref[t].data);
    }
    resumed.close();
  }
  // Another rank sees different data.
  const r0 = createBatchStream({ ...opts, rank: 0 });
  assert.notDeepEqual((await r0.next()).indices, ref[0].indices);
  r0.close();
});

test('batch stream: batches walk the sampler epochs in order and cross epoch boundaries', async () => {
  const ds = indexDataset(10);
  const w = 2, rank = 1, B = 4, seed = 3;
  const sampler = new DistributedSampler({ length: 10, worldSize: w, rank, seed });
  const expected: number[] = [];
  for (let e = 0; e < 5; e++) { sampler.setEpoch(e); expected.push(...sampler.indices()); }
  const s = createBatchStream({ dataset: ds, batchSize: B, rank, worldSize: w, seed });
  const got: number[] = [];
  const epochs: number[] = [];
  for (let t = 0; t < 6; t++) {
    const b = await s.next();
    got.push(...b.data);
    epochs.push(b.epoch);
  }
  s.close();
  assert.deepEqual(got, expected.slice(0, 24));
  // numSamples = 5 per epoch: steps start at positions 0,4,8,12,16,20 → epochs 0,0,1,2,3,4.
  assert.deepEqual(epochs, [0, 0, 1, 2, 3, 4]);
  const again = batchIndices(new DistributedSampler({ length: 10, worldSize: w, rank, seed }), B, 4);
  assert.deepEqual([...again.indices], expected.slice(16, 20));
});

test('batch stream: prefetches ahead, counts waiting time, rejects after close', async () => {
  const ds = indexDataset(100, 30);
  const s = createBatchStream({ dataset: ds, batchSize: 2, rank: 0, worldSize: 1, seed: 0, prefetch: 3 });
  await s.next(); // waits for the first read (≥ 30 ms)
  const afterFirst = s.waitMs();
  assert.ok(afterFirst > 0, `waitMs ${afterFirst}`);
  await new Promise((r) => setTimeout(r, 150));
  // Steps 1..3 were read in the background while the consumer was busy.
  assert.ok(ds.reads >= 4, `reads ${ds.reads}`);
  const b = await s.next();
  assert.equal(b.step, 1);
  s.close();
  await assert.rejects(s.next(), /closed/);
});

test('batch stream: a failing read surfaces from next() with its message', async () => {
  const ds: Dataset = { ...indexDataset(10), read() { throw new Error('disk on fire'); } };
  const s = createBatchStream({ dataset: ds, batchSize: 2, rank: 0, worldSize: 1, seed: 0 });
  await assert.rejects(s.next(), /disk on fire/);
  s.close();
});
