/**
 * Quality gate for the MLP GAN on 8 Gaussians on a ring: after 3,000 steps (about a minute on 2 cores) `gan-train
 * eval` must report at least 6 of 8 modes captured and at least 40 % of the samples of high quality (VEEGAN protocol).
 * The bar is what these flags reliably give, not what a tuned GAN gives: over seeds 1-3 and two float-rounding
 * variants of the same step, the runs that kept all 8 modes scored 38-53 % high quality (and one collapsed), so any
 * change of rounding moves a single run by ±7 points. Better defaults are issue 14's.
 * Run: node tools/run-tests.mjs test ring8
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { killAll, runCli, tmpDir } from './helpers';

after(killAll);

test('MLP GAN on ring8 captures >= 6 of 8 modes with >= 40% high-quality samples', { timeout: 600_000 }, async () => {
  const out = path.join(tmpDir('ring8'), 'run');
  const trainArgs = ['train', '--model', 'mlp', '--dataset', 'ring8', '--lr', '5e-4', '--batch-size', '256', '--steps', '3000',
    '--backend', 'wasm', '--log-every', '500', '--sample-every', '1000', '--out', out];
  const t = await runCli(trainArgs, { timeoutMs: 540_000 });
  assert.equal(t.code, 0, t.stderr.slice(-2000));
  const e = await runCli(['eval', '--run', out, '--json', '--backend', 'wasm'], { timeoutMs: 60_000 });
  assert.equal(e.code, 0, e.stderr.slice(-2000));
  const r = JSON.parse(e.stdout.trim().split('\n').at(-1)!);
  process.stderr.write(`# ring8 after 3000 steps: ${JSON.stringify(r)}\n`);
  assert.equal(r.of, 8);
  assert.ok(r.modes >= 6, `modes captured: ${r.modes}`);
  assert.ok(r.high_quality >= 0.4, `high-quality share: ${r.high_quality}`);
});
