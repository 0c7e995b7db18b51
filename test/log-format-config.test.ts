/**
 * `--log-format` and `--config FILE` as a user runs them: `gan-train train` in a real process (a tiny DCGAN, a
 * few steps, about a second a run). Run: node tools/run-tests.mjs test log-format-config
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LOG_FORMAT_VALUES } from '@gan/config';
import { LOG_FORMATS } from '@gan/telemetry';
import { killAll, runCli, TINY_DCGAN, tmpDir } from './helpers';

after(killAll);
const T = { timeoutMs: 120_000 };

test('--log-format json: every stderr line is a JSON record; pretty: readable lines; a bad value is one line', async () => {
  // The flag's values (@gan/config) are the logger's (@gan/telemetry): the two libs cannot import each other.
  assert.deepEqual([...LOG_FORMAT_VALUES], [...LOG_FORMATS]);
  const dir = tmpDir('logfmt');
  const r = await runCli(['train', ...TINY_DCGAN, '--steps', '2', '--sample-every', '0', '--out', path.join(dir, 'json'), '--log-format', 'json'], T);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter(Boolean);
  const recs = lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      assert.fail(`not a JSON line: ${l}`);
    }
  });
  for (const rec of recs) assert.equal(rec.role, 'trainer');
  const msgs = recs.map((x) => x.msg);
  for (const m of ['run folder', 'step', 'training finished']) assert.ok(msgs.includes(m), `no '${m}' in ${JSON.stringify(msgs)}`);

  const p = await runCli(['train', ...TINY_DCGAN, '--steps', '1', '--sample-every', '0', '--out', path.join(dir, 'pretty'), '--log-format', 'pretty'], T);
  assert.equal(p.code, 0, p.stderr);
  const pretty = p.stderr.split('\n').filter(Boolean);
  for (const l of pretty) assert.match(l, /^\[\d\d:\d\d:\d\d\.\d{3}\] [A-Z]+( \(\w+\))?: trainer: /, 'a pretty line, no colour off a terminal');
  assert.ok(pretty.some((l) => / INFO: trainer: training finished \{"step":1,/.test(l)), p.stderr);

  const bad = await runCli(['train', '--log-format', 'xml'], T);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'gan-train: error: --log-format must be one of auto|pretty|json, got "xml"\n');
});

test("--config run.yaml: the file's flags train the run, a flag given overrides one; the run's config.json is a --config too", async () => {
  const dir = tmpDir('cfgfile');
  const yaml = path.join(dir, 'run.yaml');
  fs.writeFileSync(yaml, [
    '# a tiny DCGAN',
    'dataset: shapes',
    'image-size: 32',
    'channels: 1',
    'nz: 16',
    'ngf: 8',
    'ndf: 8',
    'batchSize: 4',
    `backend: ${process.env.TEST_BACKEND ?? 'wasm'}`,
    'steps: 2',
    'seed: 7',
    'lr: 3.0e-4',
    'sample-every: 0',
    'log-format: json',
    `out: ${JSON.stringify(path.join(dir, 'a'))}`,
  ].join('\n'));
  const a = await runCli(['train', '--config', yaml, '--steps', '3'], T);
  assert.equal(a.code, 0, a.stderr);
  const ca = JSON.parse(fs.readFileSync(path.join(dir, 'a', 'config.json'), 'utf8')).config;
  assert.equal(ca.steps, 3, 'the flag on the command line wins over the file');
  assert.deepEqual(
    [ca.dataset, ca.imageSize, ca.channels, ca.nz, ca.ngf, ca.ndf, ca.batchSize, ca.seed, ca.lr, ca.sampleEvery, ca.out],
    ['shapes', 32, 1, 16, 8, 8, 4, 7, 3e-4, 0, path.join(dir, 'a')],
    'the rest comes from the file',
  );
  for (const l of a.stderr.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(l), `log-format: json from the file: ${l}`);

  // The run's own config.json trains the same config in another folder (its out/resume/overwrite are not read).
  const b = await runCli(['train', '--config', path.join(dir, 'a', 'config.json'), '--out', path.join(dir, 'b'), '--steps', '1'], T);
  assert.equal(b.code, 0, b.stderr);
  const cb = JSON.parse(fs.readFileSync(path.join(dir, 'b', 'config.json'), 'utf8')).config;
  assert.deepEqual(cb, { ...ca, out: path.join(dir, 'b'), steps: 1 });

  const bad = await runCli(['train', '--config', yaml, '--lr', '1e-4', '--config', yaml], T);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^gan-train: error: --config given twice/);
  fs.writeFileSync(yaml, 'batch-size: 4\nworkers: 2\n');
  const refused = await runCli(['train', '--config', yaml], T);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, `gan-train: error: config file ${yaml}: key 'workers': this command does not take --workers\n`);
});
