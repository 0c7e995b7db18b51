// Tests for createLogger: JSON lines with role/rank/time on a caller-given stream, level handling, the choice
// between pretty and JSON lines (--log-format), the relay renderer of the launcher, synchronous pretty output.
// Run: node tools/run-tests.mjs libs/telemetry logger
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { checkLogFormat, createLogger, logLineRenderer, resolveLogFormat } from './logger';

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

/** A stream that says it is (or is not) a terminal and keeps what was written. */
function fakeTerminal(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, columns: 200, writes, text: () => writes.join(''), write: (s: string) => writes.push(s) };
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/;
const ANSI_ALL = new RegExp(ANSI.source, 'g');

test('format auto: pretty lines on a TTY, JSON lines elsewhere; pretty and json can be forced', () => {
  const term = fakeTerminal(true);
  createLogger({ role: 'worker', rank: 1, destination: term, colorize: false }).info({ step: 7 }, 'joined');
  const pretty = term.text();
  assert.throws(() => JSON.parse(pretty), 'a TTY gets pretty lines');
  assert.match(pretty, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: worker 1: joined \{"step":7\}\n$/);
  assert.ok(!pretty.includes(String(process.pid)), 'no pid in pretty lines');

  const pipe = fakeTerminal(false);
  createLogger({ role: 'worker', rank: 1, destination: pipe }).info({ step: 7 }, 'joined');
  const rec = JSON.parse(pipe.text());
  assert.deepEqual([rec.role, rec.rank, rec.step, rec.msg, rec.level], ['worker', 1, 7, 'joined', 'info']);

  const forcedJson = fakeTerminal(true);
  const log = createLogger({ role: 'trainer', destination: forcedJson, format: 'json' });
  log.info({ out: 'runs/x' }, 'run folder');
  log.warn('slow');
  const lines = forcedJson.text().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.msg), ['run folder', 'slow'], 'json on a TTY: every line still parses');

  const forcedPretty = fakeTerminal(false);
  createLogger({ role: 'coordinator', destination: forcedPretty, format: 'pretty' }).warn({ worker: 'a' }, 'lost');
  assert.match(forcedPretty.text(), /WARN: coordinator: lost \{"worker":"a"\}\n$/);
  assert.ok(!ANSI.test(forcedPretty.text()), 'no colours off a TTY');
});

test('pretty lines are one line per record and coloured on a TTY unless NO_COLOR', () => {
  const term = fakeTerminal(true);
  const prev = process.env.NO_COLOR;
  delete process.env.NO_COLOR;
  try {
    createLogger({ role: 'launcher', destination: term }).info({ nested: { a: [1, 2] } }, 'run folder');
    assert.match(term.text(), ANSI);
    assert.equal(term.text().replace(ANSI_ALL, '').split('\n').length, 2, 'one line and its newline');
    process.env.NO_COLOR = '1';
    const plain = fakeTerminal(true);
    createLogger({ role: 'launcher', destination: plain }).info('x');
    assert.doesNotMatch(plain.text(), ANSI);
  } finally {
    if (prev === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = prev;
  }
});

test('an unknown format is refused with a one-line message', () => {
  assert.throws(() => createLogger({ role: 'x', format: 'xml' }), /^Error: unknown log format 'xml' \(expected one of auto, pretty, json\)$/);
  assert.throws(() => checkLogFormat('PRETTY'), /unknown log format 'PRETTY'/);
  assert.equal(resolveLogFormat(undefined, true), 'pretty');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('pretty', false), 'pretty');
});

test('logLineRenderer: relayed JSON lines in this process\'s format, other lines unchanged', () => {
  const line = JSON.stringify({ level: 'warn', time: '2026-01-02T03:04:05.678Z', role: 'worker', rank: 0, pid: 9, msg: 'slow peer', ms: 12 });
  const pretty = logLineRenderer({ format: 'pretty', colorize: false });
  assert.match(pretty(line), /^\[\d\d:\d\d:05\.678\] WARN: worker 0: slow peer \{"ms":12\}$/);
  assert.equal(pretty('gan-train: error: boom'), 'gan-train: error: boom');
  assert.equal(logLineRenderer({ format: 'json' })(line), line);
  assert.equal(logLineRenderer({ stream: fakeTerminal(false) })(line), line, 'auto off a TTY relays JSON as is');
});

test('pretty output to a file descriptor is synchronous: a process that exits right after logging loses nothing', () => {
  const url = pathToFileURL(path.join(import.meta.dirname, 'logger.ts')).href;
  const code = `const { createLogger } = await import(${JSON.stringify(url)});
    const log = createLogger({ role: 'worker', rank: 2, format: 'pretty' });
    for (let i = 0; i < 200; i++) log.info({ i }, 'line');
    process.exit(3);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 3, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.includes('worker 2: line'));
  assert.equal(lines.length, 200);
  assert.match(lines[199], /\{"i":199\}$/);
});
