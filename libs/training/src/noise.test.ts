// Tests for seeded per-row noise: determinism and the split property the data-parallel equivalence relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchNoise } from './noise';
import { modeCoverage } from './mode-coverage';

test('noise is a pure function of (seed, step, row)', () => {
  assert.deepEqual(batchNoise(7, 3, 0, 4, 10), batchNoise(7, 3, 0, 4, 10));
  assert.notDeepEqual(batchNoise(7, 3, 0, 4, 10), batchNoise(7, 4, 0, 4, 10));
  assert.notDeepEqual(batchNoise(7, 3, 0, 4, 10), batchNoise(8, 3, 0, 4, 10));
});

test('two ranks of batch b draw exactly the rows of one process with batch 2b', () => {
  const whole = batchNoise(1, 5, 0, 6, 9);
  const r0 = batchNoise(1, 5, 0, 3, 9);
  const r1 = batchNoise(1, 5, 3, 3, 9);
  assert.deepEqual(whole.subarray(0, 27), r0);
  assert.deepEqual(whole.subarray(27), r1);
});

test('noise is roughly standard normal', () => {
  const z = batchNoise(3, 0, 0, 200, 100);
  const mean = z.reduce((a, b) => a + b, 0) / z.length;
  const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
});

test('mode coverage counts captured modes and high-quality share', () => {
  const modes = new Float32Array([0, 0, 10, 0, 0, 10]);
  // Two samples on mode 0, one near mode 1 but 4σ away, one far from everything.
  const s = new Float32Array([0.01, 0, -0.02, 0.01, 10.4, 0, 5, 5]);
  const r = modeCoverage(s, modes, 0.1);
  assert.deepEqual(r, { modes: 1, of: 3, high_quality: 0.5 });
});
