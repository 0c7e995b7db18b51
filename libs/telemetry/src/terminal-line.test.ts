// Log lines and the progress bar on one terminal: a line logged while the bar is drawn must appear on its own row,
// whole, with the bar drawn again below it. Checked on a fake TTY stream through a small terminal model ('\r',
// '\x1b[K', '\n' and printable characters), so a bar fragment left in front of or after a log line shows up as a
// wrong row. Run: node tools/run-tests.mjs libs/telemetry terminal-line
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './logger';
import { ProgressBar } from './progress-bar';
import { CLEAR_LINE, terminalLine, TerminalLine } from './terminal-line';

function fakeTerminal(isTTY = true, columns = 120) {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (s: string) => writes.push(s) };
}

/** The rows a terminal shows after receiving `out` (the cursor's row last, even when empty). */
function screen(out: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  for (let i = 0; i < out.length; i++) {
    const ch = out[i];
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row += 1;
      col = 0;
      rows[row] ??= [];
    } else if (ch === '\x1b') {
      const m = /^\x1b\[([0-9;]*)([A-Za-z])/.exec(out.slice(i));
      assert.ok(m, `unknown escape at ${i}`);
      assert.equal(m[2], 'K', 'only erase-in-line is expected');
      rows[row].length = Math.min(rows[row].length, col);
      i += m[0].length - 1;
    } else {
      rows[row][col] = ch;
      col += 1;
    }
  }
  return rows.map((r) => Array.from(r, (c) => c ?? ' ').join(''));
}

const BAR = /[█░]/;

for (const format of ['pretty', 'json'] as const) {
  test(`${format} log lines while the bar is drawn: each on its own row, the bar redrawn below`, () => {
    const term = fakeTerminal();
    let t = 0;
    const bar = new ProgressBar({ total: 10, stream: term, label: 'train', now: () => t, minRedrawMs: 0 });
    const log = createLogger({ role: 'trainer', destination: term, format, colorize: false });
    t = 100;
    bar.update(1, { d_loss: 1.5 });
    log.info({ step: 1 }, 'checkpoint written');
    // The bar is back under the line, as it was.
    assert.match(screen(term.writes.join('')).at(-1)!, /^train \[.*\] 1\/10 10%/);
    t = 200;
    bar.update(2, { d_loss: 1.25 });
    log.warn({ step: 2 }, 'slow step');
    log.info('second line in a row');
    t = 300;
    bar.update(10, { d_loss: 1 });
    bar.done();
    log.info('after the bar');

    const rows = screen(term.writes.join(''));
    assert.equal(rows.at(-1), '', 'ends on a fresh row');
    const logRows = rows.filter((r) => !BAR.test(r) && r !== '');
    const barRows = rows.filter((r) => BAR.test(r));
    assert.deepEqual(barRows.length, 1, `one bar row, left in place by done(): ${JSON.stringify(rows)}`);
    assert.match(barRows[0], /^train \[█+\] 10\/10 100%/);
    assert.equal(rows.indexOf(barRows[0]), rows.length - 3, 'the bar stays above the line logged after done()');
    assert.equal(logRows.length, 4, JSON.stringify(rows));
    const msgs = format === 'json'
      ? logRows.map((r) => JSON.parse(r).msg)
      : logRows.map((r) => /^\[\d\d:\d\d:\d\d\.\d{3}\] (?:INFO|WARN): trainer: ([a-z ]+?)(?: \{"step":\d\})?$/.exec(r)?.[1]);
    assert.deepEqual(msgs, ['checkpoint written', 'slow step', 'second line in a row', 'after the bar']);
  });
}

test('the terminal model sees a line written past the owner land on the bar\'s row', () => {
  // What happened before the owner existed: the bar's text, then the log line on the same row.
  const term = fakeTerminal();
  const bar = new ProgressBar({ total: 10, stream: term, now: () => 0, minRedrawMs: 0 });
  bar.update(3);
  term.write('{"msg":"stray"}\n');
  const rows = screen(term.writes.join(''));
  assert.ok(BAR.test(rows[0]) && rows[0].includes('"stray"'), JSON.stringify(rows));
});

test('writeLines clears the status line, writes, and redraws it in one write; off a TTY it only writes', () => {
  const term = fakeTerminal();
  const line = new TerminalLine(term);
  line.writeLines('before');
  line.drawStatus('[##  ] 2/4');
  line.writeLines('a\nb\n');
  assert.deepEqual(term.writes, ['before\n', '\r[##  ] 2/4\x1b[K', `${CLEAR_LINE}a\nb\n\r[##  ] 2/4\x1b[K`]);
  line.endStatus();
  line.writeLines('c');
  assert.deepEqual(term.writes.slice(3), ['\n', 'c\n']);

  const pipe = fakeTerminal(false);
  const p = new TerminalLine(pipe);
  p.drawStatus('x');
  p.writeLines('y');
  assert.deepEqual(pipe.writes.slice(1), ['y\n']);
});

test('one owner per stream: a bar and a logger on process.stderr share it', () => {
  const term = fakeTerminal();
  assert.equal(terminalLine(term), terminalLine(term));
  assert.notEqual(terminalLine(term), terminalLine(fakeTerminal()));
  assert.equal(terminalLine(), terminalLine(process.stderr));
});
