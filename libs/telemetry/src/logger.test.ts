// Tests for createLogger: JSON lines with role/rank/time on a caller-given stream, level handling.
// Run: node tools/run-tests.mjs libs/telemetry logger
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from './logger';

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const lines = () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

test('writes one JSON line per call with role, rank, ISO time and fields', () => {
  const { stream, lines } = capture();
  const log = createLogger({ role: 'worker', rank: 3, destination: stream });
  log.info({ step: 7 }, 'step done');
  log.warn('slow');
  const out = lines();
  assert.equal(out.length, 2);
  assert.equal(out[0].role, 'worker');
  assert.equal(out[0].rank, 3);
  assert.equal(out[0].step, 7);
  assert.equal(out[0].msg, 'step done');
  assert.equal(out[0].level, 'info');
  assert.equal(out[1].level, 'warn');
  assert.equal(typeof out[0].time, 'string');
  assert.ok(!Number.isNaN(Date.parse(out[0].time as string)), 'time is an ISO date');
  assert.match(out[0].time as string, /^\d{4}-\d\d-\d\dT/);
});

test('omits rank when undefined', () => {
  const { stream, lines } = capture();
  createLogger({ role: 'coordinator', destination: stream }).info('hello');
  const [rec] = lines();
  assert.equal(rec.role, 'coordinator');
  assert.ok(!('rank' in rec));
});

test('level from opts filters lower levels; env GAN_LOG_LEVEL is the default', () => {
  const { stream, lines } = capture();
  const log = createLogger({ role: 'cli', level: 'warn', destination: stream });
  log.info('hidden');
  log.error('shown');
  assert.deepEqual(lines().map((l) => l.msg), ['shown']);

  const prev = process.env.GAN_LOG_LEVEL;
  process.env.GAN_LOG_LEVEL = 'debug';
  try {
    const c2 = capture();
    createLogger({ role: 'cli', destination: c2.stream }).debug('dbg');
    assert.deepEqual(c2.lines().map((l) => l.msg), ['dbg']);
  } finally {
    if (prev === undefined) delete process.env.GAN_LOG_LEVEL;
    else process.env.GAN_LOG_LEVEL = prev;
  }
});

test('rejects an unknown level and a missing role with a clear message', () => {
  assert.throws(() => createLogger({ role: 'x', level: 'loud' }), /unknown log level 'loud'/);
  assert.throws(() => createLogger({ role: '' }), /role/);
});
