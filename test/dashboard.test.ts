/**
 * The coordinator's dashboard in a real browser: `gan-train local --workers 2 --min-workers 1 --http 127.0.0.1:0`
 * trains the tiny DCGAN, headless Chromium (playwright-core, Debian's /usr/bin/chromium or CHROMIUM_PATH) opens the
 * URL the launcher logs, the test reads the page's DOM while the steps advance, SIGKILLs one worker by PID and waits
 * for the page to show the rank lost and the group re-formed. UPDATE_SCREENSHOT=1 also writes docs/dashboard.png
 * (never in CI). Skips, saying why, when no Chromium is installed (.ci/run installs Debian's).
 * Hard timeouts; every process it started is killed by PID.
 * Run: node --import tsx --test test/dashboard.test.ts
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { alive, killAll, logLines, ROOT, startCli, TINY_DCGAN, tmpDir, waitFor } from './helpers';

after(killAll);

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && fs.existsSync(p));

test('the dashboard shows steps advancing, then a lost rank and the re-formed group', {
  timeout: 120_000,
  skip: CHROMIUM ? false : 'no Chromium binary (/usr/bin/chromium or CHROMIUM_PATH): apt-get install chromium',
}, async () => {
  const out = path.join(tmpDir('dashboard'), 'run');
  const run = startCli([
    'local', '--workers', '2', '--min-workers', '1', ...TINY_DCGAN, '--steps', '100000', '--sample-every', '5', '--checkpoint-every', '0',
    '--op-timeout-ms', '2000', '--heartbeat-ms', '300', '--hash-every', '5', '--http', '127.0.0.1:0', '--out', out,
  ], { timeoutMs: 110_000 });
  const pids = new Set<number>();
  let browser: Browser | undefined;
  try {
    // The coordinator logs the URL; the launcher logs it again with the token (the link to open).
    const launcherLine = () => logLines(run.stderr).find((l) => l.role === 'launcher' && typeof l.msg === 'string' && l.msg.startsWith('dashboard '));
    await waitFor(() => launcherLine() !== undefined, 40_000, 'the dashboard URL in the launcher log');
    const line = launcherLine()!;
    assert.match(line.msg, /^dashboard http:\/\/127\.0\.0\.1:\d+\/$/, 'one line, the URL without the token');
    assert.match(line.url, /\?token=[\w-]+$/, 'the URL to open carries the run token');
    // Without the token the server answers 401, with it the page.
    assert.equal((await fetch(line.url.replace(/\?.*$/, ''))).status, 401);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 30_000 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(line.url, { timeout: 15_000 });
    const stepOnPage = async () => Number(await page.textContent('#step'));
    await page.waitForFunction(() => Number(document.querySelector('#step')?.textContent) >= 3, null, { timeout: 60_000 });
    const s1 = await stepOnPage();
    await page.waitForFunction((s) => Number(document.querySelector('#step')?.textContent) > s, s1, { timeout: 20_000 });
    assert.equal(await page.textContent('#state'), 'training');
    assert.equal(await page.textContent('#size'), '2');
    assert.equal(await page.locator('#members tr').count(), 2);
    assert.equal(await page.locator('#split .bar').count(), 2, 'a step split bar per rank');
    assert.ok(await page.locator('#loss path').count() === 2, 'D and G loss curves');
    assert.ok(await page.locator('#events li[data-kind="generation"]').count() >= 1, 'the first generation is an event');

    const workers = logLines(run.stderr).filter((l) => l.msg === 'joined');
    for (const w of workers) pids.add(w.pid);
    const victim = workers.find((w) => w.rank === 1);
    assert.ok(victim, 'the launcher relays the workers\' "joined" lines with their pids');
    process.kill(victim.pid, 'SIGKILL');
    await page.waitForSelector('#events li[data-kind="lost"]', { timeout: 30_000 });
    assert.match((await page.textContent('#events li[data-kind="lost"]')) ?? '', /rank 1/);
    await page.waitForFunction(() => document.querySelector('#generation')?.textContent === '2' && document.querySelector('#size')?.textContent === '1', null, { timeout: 30_000 });
    const s2 = await stepOnPage();
    await page.waitForFunction((s) => Number(document.querySelector('#step')?.textContent) > s, s2, { timeout: 20_000 });
    assert.equal(Number(await page.textContent('#failures')), 1);
    assert.deepEqual(errors, [], 'no script errors on the page');

    if (process.env.UPDATE_SCREENSHOT === '1') {
      await page.waitForSelector('#sample', { state: 'visible', timeout: 15_000 });
      await page.waitForFunction(() => (document.querySelector('#sample') as HTMLImageElement).complete, null, { timeout: 5000 });
      await page.screenshot({ path: path.join(ROOT, 'docs/dashboard.png'), fullPage: true });
    }
  } finally {
    await browser?.close().catch(() => {});
    // An orderly stop first (Ctrl-C's path), then SIGKILL by PID whatever is left.
    if (run.proc.pid && alive(run.proc.pid)) process.kill(run.proc.pid, 'SIGINT');
    await Promise.race([run.done, new Promise((r) => setTimeout(r, 15_000))]);
    killAll();
    for (const l of logLines(run.stderr)) if (typeof l.pid === 'number') pids.add(l.pid);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});
