/**
 * In-process tests of the training loop's distributed logic with fake collectives (tiny MLP on ring8, cpu backend):
 * a diverged replica is caught by the weight-hash all-gather, and a failed all-reduce mid-step is rolled back so
 * the run ends bit-identical to one that never failed. Run: node tools/run-tests.mjs libs/training trainer
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@gan/backend';
import { validateConfig, type TrainConfig } from '@gan/config';
import { train, ReplicaMismatchError, type Log } from './trainer';
import { LocalReducer, PeerFailure, type Group, type Membership } from './reducer';

const quiet: Log = { info() {}, warn() {}, error() {} };

function config(over: Partial<TrainConfig>): TrainConfig {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-test-'));
  return validateConfig({
    model: 'mlp', dataset: 'ring8', batchSize: 16, steps: 6, mlpHidden: 16, nz: 4, sampleEvery: 0, logEvery: 1,
    checkpointEvery: 0, out, ...over,
  });
}

before(async () => {
  await initBackend('cpu');
});

test('a replica whose weights differ is named by the hash check', async () => {
  const reducer = {
    rank: 0,
    worldSize: 2,
    allReduceMean: async () => {},
    broadcast: async () => {},
    // Rank 1 reports a different digest: what a diverged replica looks like from rank 0.
    allGather: async (buf: Float32Array) => [buf.slice(), buf.map((v, i) => (i === 0 ? v + 1 : v))],
  };
  await assert.rejects(train({ config: config({ hashEvery: 2 }), logger: quiet, reducer }), (e: Error) => {
    assert.ok(e instanceof ReplicaMismatchError);
    assert.match(e.message, /step 2: weights of rank\(s\) 1 differ from rank 0's/);
    return true;
  });
});

test('a collective that fails mid-step is rolled back: the run ends as if it never failed', async () => {
  const straight = await train({ config: config({}), logger: quiet, reducer: new LocalReducer() });

  let calls = 0;
  let failedOnce = false;
  const joins: { committed: number; reason: string | null }[] = [];
  const group = (generation: number): Group => ({
    rank: 0,
    worldSize: 1,
    generation,
    // The 6th all-reduce is step 3's G phase: D's update of step 3 has been applied by then and must be undone.
    allReduceMean: async () => {
      calls += 1;
      if (calls === 6 && !failedOnce) {
        failedOnce = true;
        throw new PeerFailure('UNAVAILABLE: peer rank 1 went away');
      }
    },
    broadcast: async () => {},
    allGather: async (b) => [b.slice()],
  });
  const membership: Membership = {
    next: async (committed, reason) => {
      joins.push({ committed, reason });
      return group(joins.length);
    },
    reformRequested: () => false,
  };
  const before = tf.memory().numTensors;
  const elastic = await train({ config: config({}), logger: quiet, membership });
  assert.equal(tf.memory().numTensors, before, 'the failed step leaked tensors');
  assert.deepEqual(joins, [{ committed: 0, reason: null }, { committed: 2, reason: 'UNAVAILABLE: peer rank 1 went away' }]);
  assert.equal(elastic.step, 6);
  assert.equal(elastic.digest, straight.digest);
});
