// Tests for the default thread counts: --threads wins, else all cores; `local` gives each of its N workers
// max(1, ⌊cores / N⌋). Run: node tools/run-tests.mjs libs/backend compute-threads
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { availableCores, threadsFor, threadsPerWorker } from './index';

test('availableCores is what Node says this process may use', () => {
  assert.equal(availableCores(), os.availableParallelism());
  assert.ok(availableCores() >= 1);
});

test('threadsFor: the configured count, else every core', () => {
  assert.equal(threadsFor(3, 16), 3);
  assert.equal(threadsFor(null, 16), 16);
  assert.equal(threadsFor(undefined, 2), 2);
  assert.equal(threadsFor(null), availableCores());
});

test('threadsPerWorker: local with N workers on C cores gives each max(1, floor(C / N))', () => {
  for (const cores of [1, 2, 3, 4, 7, 8, 16, 64]) {
    assert.equal(threadsPerWorker(cores, 2), Math.max(1, Math.floor(cores / 2)), `${cores} cores, 2 workers`);
  }
  assert.equal(threadsPerWorker(2, 2), 1);
  assert.equal(threadsPerWorker(16, 3), 5);
  assert.equal(threadsPerWorker(2, 4), 1, 'more workers than cores still gives each one thread');
  assert.equal(threadsPerWorker(8, 1), 8);
  assert.throws(() => threadsPerWorker(0, 2), /cores must be a positive integer, got 0/);
  assert.throws(() => threadsPerWorker(4, 0), /workers must be a positive integer, got 0/);
});
