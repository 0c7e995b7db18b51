// Tests for `--config FILE` (YAML or JSON whose keys are the command's flags): key spellings, typed values checked
// like flags, flags overriding the file, one-line errors naming the file and the key, and a run's config.json.
// Run: node tools/run-tests.mjs libs/config config-file
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, DISTRIBUTED_FLAGS, LOG_FLAGS, defaultsFor, formatHelp, parseArgs, type ParseOptions } from './index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-config-file-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string, ext = '.yaml'): string {
  const f = path.join(dir, `c${n++}${ext}`);
  fs.writeFileSync(f, text);
  return f;
}

/** The flags of `gan-train train` (apps/cli) with the log flag: the common case. */
const TRAIN: ParseOptions = {
  allow: ['model', 'dataset', 'imageSize', 'channels', 'ngf', 'ndf', 'steps', 'batchSize', 'lr', 'beta1', 'loss', 'labelSmoothing', 'out', 'overwrite',
    'resume', 'seed', 'backend', 'threads', 'download', 'dataRoot', 'sampleEvery', 'checkpointEvery', 'logEvery'],
  extra: { ...LOG_FLAGS },
};

function rejects(argv: string[], pattern: RegExp, opts: ParseOptions = TRAIN): string {
  let caught: unknown;
  try {
    parseArgs(argv, opts);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${argv.join(' ')}, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes('\n'), `one line: ${caught.message}`);
  return caught.message;
}

test('YAML keys as flags (kebab-case) or config names (camelCase), typed values, extras too', () => {
  const f = file([
    '# a run',
    'dataset: shapes',
    'image-size: 32',
    'channels: 1',
    'batchSize: 16',
    'lr: 2e-4',
    'beta1: 0.6',
    'download: true',
    'threads: null',
    'out: runs/from-yaml',
    'log-format: json',
  ].join('\n'));
  const { config, extra, configFile } = parseArgs(['--config', f], TRAIN);
  assert.equal(configFile, f);
  assert.deepEqual(config, {
    ...DEFAULT_CONFIG, dataset: 'shapes', imageSize: 32, channels: 1, batchSize: 16, lr: 2e-4, beta1: 0.6, download: true, threads: null,
    out: 'runs/from-yaml',
  });
  assert.equal(extra.logFormat, 'json');
});

test('flags on the command line override the file, wherever --config stands', () => {
  const f = file('batch-size: 16\nsteps: 50\nlog-format: json\nseed: 3\n');
  for (const argv of [['--config', f, '--batch-size', '8', '--log-format=pretty'], ['--batch-size=8', '--log-format', 'pretty', `--config=${f}`]]) {
    const { config, extra } = parseArgs(argv, TRAIN);
    assert.equal(config.batchSize, 8);
    assert.equal(config.steps, 50);
    assert.equal(config.seed, 3);
    assert.equal(extra.logFormat, 'pretty');
  }
  // A boolean flag given as --no-x beats the file's true.
  assert.equal(parseArgs(['--config', file('download: true'), '--no-download'], TRAIN).config.download, false);
});

test('the model chosen by the file or by a flag sets the defaults of the fields neither gives', () => {
  const mlp = parseArgs(['--config', file('model: mlp\nsteps: 100')], TRAIN).config;
  assert.deepEqual(mlp, { ...defaultsFor('mlp'), steps: 100 });
  const viaFlag = parseArgs(['--config', file('lr: 0.001'), '--model', 'mlp'], TRAIN).config;
  assert.deepEqual(viaFlag, { ...defaultsFor('mlp'), lr: 0.001 });
  const overridden = parseArgs(['--config', file('model: mlp'), '--model', 'dcgan'], TRAIN).config;
  assert.deepEqual(overridden, defaultsFor('dcgan'));
});

test('JSON files are read as JSON; an empty YAML file sets nothing', () => {
  const f = file(JSON.stringify({ 'image-size': 28, channels: 1, lr: 0.001, logFormat: 'pretty' }), '.json');
  const { config, extra } = parseArgs(['--config', f], TRAIN);
  assert.deepEqual([config.imageSize, config.channels, config.lr, extra.logFormat], [28, 1, 0.001, 'pretty']);
  assert.deepEqual(parseArgs(['--config', file('# nothing here\n')], TRAIN).config, { ...DEFAULT_CONFIG });
  rejects(['--config', file('{"lr": 0.1,}', '.json')], /^config file .*\.json: not valid JSON: /);
});

test('errors name the file and the key, in one line', () => {
  rejects(['--config', file('lrr: 0.1')], /^config file .*\.yaml: unknown key 'lrr' \(did you mean 'lr'\?\)$/);
  rejects(['--config', file('listen: 1.2.3.4:5')], /: unknown key 'listen'$/);
  rejects(['--config', file('min-workers: 2')], /: key 'min-workers': this command does not take --min-workers$/);
  rejects(['--config', file('workers: 2')], /: key 'workers': this command does not take --workers$/);
  rejects(['--config', file('batch-size: "64"')], /: key 'batch-size' must be a positive integer, got "64"$/);
  rejects(['--config', file('batch-size: 0')], /: key 'batch-size' must be a positive integer, got 0$/);
  rejects(['--config', file('lr: -1')], /: key 'lr' must be a positive number, got -1$/);
  rejects(['--config', file('image-size: 48')], /: key 'image-size' must be one of 28\|32\|64, got 48$/);
  rejects(['--config', file('download: yes')], /: key 'download' must be true or false, got "yes"$/);
  rejects(['--config', file('out: null\nsteps: [1, 2]')], /: key 'steps' must be a positive integer, got \[1,2\]$/);
  rejects(['--config', file('log-format: xml')], /: key 'log-format' must be one of auto\|pretty\|json, got "xml"$/);
  rejects(['--config', file('batch-size: 8\nbatchSize: 16')], /: keys 'batch-size' and 'batchSize' both set --batch-size$/);
  rejects(['--config', file('lr: 1\nlr: 2')], /: not valid YAML: Map keys must be unique at line 2, column 1$/);
  rejects(['--config', file('lr: [1')], /: not valid YAML: /);
  rejects(['--config', file('- lr\n- steps')], /: must hold a mapping of flag names to values \(e\.g\. batch-size: 64\), got a list$/);
  rejects(['--config', file('just text')], /got a string$/);
  rejects(['--config', file('config: other.yaml')], /: key 'config' must be a run's config mapping, got a string/);
  rejects(['--config', path.join(dir, 'absent.yaml')], /^config file .*absent\.yaml: cannot read it \(no such file\)$/);
  rejects(['--config', dir], /: cannot read it \(it is a folder\)$/);
  rejects(['--config'], /^--config needs a value \(a YAML or JSON file\)$/);
  rejects(['--config', '--lr', '1'], /^--config needs a value/);
  rejects(['--config', file(''), '--config', file('')], /^--config given twice/);
  // Cross-field rules apply to the merged values.
  rejects(['--config', file('loss: hinge\nlabel-smoothing: 0.1')], /--label-smoothing applies to the BCE losses/);
  // The flag itself is validated as every flag is.
  rejects(['--log-format', 'xml'], /^--log-format must be one of auto\|pretty\|json, got "xml"$/);
});

test('a bad flag is reported before the file is read; --help reads no file', () => {
  rejects(['--config', path.join(dir, 'absent.yaml'), '--lrr', '1'], /^unknown flag --lrr/);
  const r = parseArgs(['--config', path.join(dir, 'absent.yaml'), '--help'], TRAIN);
  assert.equal(r.help, true);
  assert.match(formatHelp(TRAIN), /--config FILE +read flags from a YAML or JSON file/);
  assert.match(formatHelp(TRAIN), /--log-format auto\|pretty\|json/);
});

test('command extras of the distributed commands are keys too', () => {
  const f = file('listen: 10.0.0.1:29500\njoin-timeout-ms: 5000\ntoken-file: run.token\nworkers: 2\nlog-format: json\n');
  const { config, extra } = parseArgs(['--config', f], { extra: DISTRIBUTED_FLAGS.coordinator });
  assert.equal(config.workers, 2);
  assert.deepEqual([extra.listen, extra.joinTimeoutMs, extra.tokenFile, extra.logFormat], ['10.0.0.1:29500', 5000, 'run.token', 'json']);
  // A worker does not take --listen.
  rejects(['--config', f], /unknown key 'listen'/, { extra: DISTRIBUTED_FLAGS.worker });
});

test("a run's config.json is a config file: its config is read, RunInfo and the run's folder fields are not", () => {
  // As @gan/training's writeRunConfig writes it: every field of the config, then RunInfo.
  const ran = {
    ...defaultsFor('dcgan'), imageSize: 32, channels: 1, ngf: 8, ndf: 8, steps: 6, batchSize: 4, workers: 2, minWorkers: 1, wire: 'bf16',
    out: 'runs/old', overwrite: true, resume: 'runs/old/checkpoints', threads: 1,
  };
  const f = file(JSON.stringify({ config: ran, version: '0.1.0', node: 'v20.20.2', tfjs: '4.22.0', backend: 'wasm', worldSize: 2, started: '2026-01-01T00:00:00.000Z' }, null, 2), '.json');
  const { config } = parseArgs(['--config', f, '--steps', '12'], TRAIN);
  // out/resume/overwrite stay at their defaults; workers, minWorkers and wire are not train's flags and are skipped.
  assert.deepEqual(config, { ...defaultsFor('dcgan'), imageSize: 32, channels: 1, ngf: 8, ndf: 8, steps: 12, batchSize: 4, threads: 1 });
  // `local` takes them all.
  const local = parseArgs(['--config', f], { extra: DISTRIBUTED_FLAGS.local }).config;
  assert.deepEqual([local.workers, local.minWorkers, local.wire, local.out, local.overwrite], [2, 1, 'bf16', null, false]);
  // Its values are still checked.
  rejects(['--config', file(JSON.stringify({ config: { ...ran, lr: 'fast' }, version: '0.1.0' }), '.json')], /key 'lr' must be a positive number, got "fast"/);
  rejects(['--config', file(JSON.stringify({ config: { ...ran, lrr: 1 } }), '.json')], /unknown key 'lrr'/);
});
