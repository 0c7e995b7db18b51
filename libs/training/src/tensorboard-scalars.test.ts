// Tests for tensorboardScalars: every field of the trainer's metrics row gets its TensorBoard tag, step is left
// out, an unknown numeric field keeps its name. Run: node --import tsx --test libs/training/src/tensorboard-scalars.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensorboardScalars } from './tensorboard-scalars';
import type { StepRecord } from './trainer';

test("a metrics row's fields under TensorBoard tags", () => {
  const rec: StepRecord = {
    step: 7, d_loss: 1.1, g_loss: 0.9, d_real: 0.6, d_fake: 0.4, step_ms: 12, compute_ms: 9, allreduce_ms: 2,
    data_wait_ms: 0.5, other_ms: 0.5,
  };
  assert.deepEqual(tensorboardScalars({ ...rec, world_size: 2, samples_per_s: 10666.7 }), {
    'loss/d': 1.1, 'loss/g': 0.9, 'D(x)': 0.6, 'D(G(z))': 0.4, 'time/step_ms': 12, 'time/compute_ms': 9,
    'time/allreduce_ms': 2, 'time/data_wait_ms': 0.5, 'time/other_ms': 0.5, world_size: 2,
    'throughput/samples_per_s': 10666.7,
  });
  assert.deepEqual(tensorboardScalars({ step: 1, fid: 30.5, note: 'x', missing: null }), { fid: 30.5 });
});
