// Tests for MetricsWriter/readMetrics: round trip, append on resume, truncated-tail tolerance.
// Run: node tools/run-tests.mjs libs/telemetry metrics
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MetricsWriter, readMetrics } from './metrics-writer';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gan-metrics-'));

test('round-trips records and creates parent directories', async () => {
  const dir = tmp();
  const file = path.join(dir, 'run', 'nested', 'metrics.jsonl');
  const w = new MetricsWriter(file);
  w.write({ step: 1, d_loss: 1.25, g_loss: 0.5, phase: 'train' });
  w.write({ step: 2, d_loss: NaN, note: null });
  await w.close();
  assert.deepEqual(readMetrics(file), [
    { step: 1, d_loss: 1.25, g_loss: 0.5, phase: 'train' },
    { step: 2, d_loss: null, note: null },
  ]);
  assert.equal(fs.readFileSync(file, 'utf8').split('\n').length, 3, 'two lines plus trailing newline');
  fs.rmSync(dir, { recursive: true });
});

test('a second writer appends (resume) instead of truncating', async () => {
  const dir = tmp();
  const file = path.join(dir, 'metrics.jsonl');
  const a = new MetricsWriter(file);
  a.write({ step: 1 });
  await a.close();
  const b = new MetricsWriter(file);
  b.write({ step: 2 });
  await b.close();
  assert.deepEqual(readMetrics(file).map((r) => r.step), [1, 2]);
  fs.rmSync(dir, { recursive: true });
});

test('a partial last line from a killed run is dropped, and the next run starts on a new line', async () => {
  const dir = tmp();
  const file = path.join(dir, 'metrics.jsonl');
  fs.writeFileSync(file, '{"step":1}\n{"step":2,"d_lo');
  assert.deepEqual(readMetrics(file), [{ step: 1 }]);
  const w = new MetricsWriter(file);
  w.write({ step: 3 });
  await w.close();
  // The broken line is now in the middle: that is an error naming the line.
  assert.throws(() => readMetrics(file), /line 2 is not valid JSON/);
  fs.rmSync(dir, { recursive: true });
});

test('write after close and non-scalar fields are rejected', async () => {
  const dir = tmp();
  const w = new MetricsWriter(path.join(dir, 'm.jsonl'));
  assert.throws(() => w.write({ x: [1] as unknown as number }), /field 'x'/);
  await w.close();
  assert.throws(() => w.write({ step: 1 }), /after close/);
  fs.rmSync(dir, { recursive: true });
});
