// Tests for ProgressBar (fake TTY with an injected clock, silence on non-TTY) and formatDuration.
// Run: node tools/run-tests.mjs libs/telemetry progress
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration } from './format-duration';
import { ProgressBar } from './progress-bar';

function fakeStream(isTTY: boolean, columns?: number) {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (s: string) => writes.push(s) };
}

test('on a TTY renders bar, counts, rate, ETA and fields on one redrawn line', () => {
  const s = fakeStream(true);
  let t = 0;
  const bar = new ProgressBar({ total: 1000, stream: s, now: () => t, width: 10 });
  assert.equal(bar.isTTY, true);
  // 10 steps per second for 12 seconds -> rate 10 step/s, 120/1000 done, ETA 88 s.
  for (let step = 1; step <= 120; step++) {
    t = step * 100;
    bar.update(step, { d_loss: 1.2345, g_loss: 0.876 });
  }
  const last = s.writes.at(-1)!;
  assert.ok(last.startsWith('\r'), 'redraws with carriage return');
  assert.ok(!last.includes('\n'), 'single line');
  assert.match(last, /\[█░{9}\] 120\/1000 12%/);
  assert.match(last, /10\.0 step\/s/);
  assert.match(last, /ETA 1m28s/);
  assert.match(last, /d_loss 1\.234 {2}g_loss 0\.876/);
  bar.done();
  assert.equal(s.writes.at(-1), '\n');
});

test('redraws are throttled but the final step always draws; lines fit the terminal width', () => {
  const s = fakeStream(true, 40);
  let t = 0;
  const bar = new ProgressBar({ total: 50, stream: s, now: () => t, minRedrawMs: 1000 });
  for (let step = 1; step <= 50; step++) {
    t = step * 10;
    bar.update(step, { loss: 0.5 });
  }
  // Draws at t=10 (first) and t=500 (last step): 490 ms < 1000 ms between them otherwise.
  assert.equal(s.writes.length, 2);
  assert.match(s.writes[1], /50\/50 100%/);
  for (const w of s.writes) assert.ok([...w.replace('\r', '').replace('\x1b[K', '')].length <= 39);
});

test('startStep makes the rate count only this run\'s steps', () => {
  const s = fakeStream(true);
  let t = 0;
  const bar = new ProgressBar({ total: 1000, stream: s, now: () => t, startStep: 500 });
  t = 1000;
  bar.update(502, {}); // 2 steps in 1 s, not 502
  assert.match(s.writes.at(-1)!, /2\.00 step\/s/);
  assert.match(s.writes.at(-1)!, /ETA 4m09s/);
});

test('is silent on a non-TTY stream', () => {
  const s = fakeStream(false);
  const bar = new ProgressBar({ total: 10, stream: s });
  assert.equal(bar.isTTY, false);
  for (let i = 1; i <= 10; i++) bar.update(i, { loss: 1 });
  bar.done();
  assert.deepEqual(s.writes, []);
});

test('rejects a non-positive total', () => {
  assert.throws(() => new ProgressBar({ total: 0, stream: fakeStream(true) }), /total must be a positive number/);
});

test('formatDuration', () => {
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(3400), '3.4s');
  assert.equal(formatDuration(42_000), '42s');
  assert.equal(formatDuration(259_000), '4m19s');
  assert.equal(formatDuration(2 * 3600_000 + 5 * 60_000), '2h05m');
  assert.equal(formatDuration(3 * 86400_000 + 4 * 3600_000), '3d04h');
  assert.equal(formatDuration(Infinity), '--');
  assert.equal(formatDuration(-1), '--');
});
