// Tests for the defaults, argv parsing, error messages and help text of @gan/config.
// Run: node tools/run-tests.mjs libs/config parse-args
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CONFIG_FIELDS, CONFIG_KEYS, ConfigError, DEFAULT_CONFIG, FINGERPRINT_FIELDS, MODEL_DEFAULTS, configToArgs, defaultsFor, formatHelp,
  parseArgs, validateConfig,
  type FieldSpec,
} from './index';

/** Asserts that parsing throws a ConfigError whose single-line message matches `pattern`. */
function rejects(argv: string[], pattern: RegExp, opts?: Parameters<typeof parseArgs>[1]): string {
  let caught: unknown;
  try {
    parseArgs(argv, opts);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError for ${argv.join(' ')}, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes('\n'), 'message must be one line');
  return caught.message;
}

test('defaults match the documented values and are frozen', () => {
  assert.deepEqual({ ...DEFAULT_CONFIG }, {
    model: 'dcgan', dataset: 'shapes', dataRoot: null, download: false, allowHttp: false, dropLast: false, skipBadImages: false,
    imageSize: 64, channels: 3, nz: 100, ngf: 128, ndf: 64, norm: 'batch', spectralNorm: false, mlpHidden: 128, steps: 1000,
    batchSize: 64, optimizer: 'adam', lr: 2e-4, beta1: 0.5, beta2: 0.999, loss: 'non-saturating', labelSmoothing: 0, clip: 0.01, gpWeight: 10, nCritic: 1, unrolled: 0, featureMatching: false,
    out: null, overwrite: false, seed: 1, backend: 'auto', threads: null, resume: null, sampleEvery: 100, checkpointEvery: 500,
    logEvery: 10, keepCheckpoints: 3, workers: 1, minWorkers: 0, wire: 'fp32', transport: 'tcp', opTimeoutMs: 10000,
    heartbeatMs: 1000, hashEvery: 50, maxRestarts: 0,
  });
  assert.ok(Object.isFrozen(DEFAULT_CONFIG));
  assert.throws(() => {
    (DEFAULT_CONFIG as { lr: number }).lr = 1;
  }, TypeError);
  const { config, positional, help } = parseArgs([]);
  assert.deepEqual(config, { ...DEFAULT_CONFIG });
  assert.notEqual(config, DEFAULT_CONFIG);
  assert.deepEqual(positional, []);
  assert.equal(help, false);
});

test('field metadata: kebab-case flags, help lines, fingerprint set', () => {
  assert.deepEqual(new Set(CONFIG_KEYS), new Set(Object.keys(DEFAULT_CONFIG)));
  assert.equal(CONFIG_FIELDS.batchSize.flag, '--batch-size');
  assert.equal(CONFIG_FIELDS.opTimeoutMs.flag, '--op-timeout-ms');
  assert.equal(CONFIG_FIELDS.lr.flag, '--lr');
  for (const k of CONFIG_KEYS) {
    assert.match(CONFIG_FIELDS[k].flag, /^--[a-z0-9]+(-[a-z0-9]+)*$/, k);
    assert.ok(CONFIG_FIELDS[k].help.length > 0 && !CONFIG_FIELDS[k].help.includes('\n'), k);
  }
  assert.deepEqual([...FINGERPRINT_FIELDS], [
    'model', 'dataset', 'imageSize', 'channels', 'nz', 'ngf', 'ndf', 'norm', 'spectralNorm', 'mlpHidden', 'steps', 'batchSize',
    'optimizer', 'lr', 'beta1', 'beta2', 'loss', 'labelSmoothing', 'clip', 'gpWeight', 'nCritic', 'unrolled', 'featureMatching', 'seed', 'dropLast', 'wire', 'hashEvery',
  ].sort());
});

test('--flag value, --flag=value, booleans, --no-flag, positionals and --', () => {
  const { config, positional } = parseArgs([
    'run1', '--batch-size', '32', '--lr=0.001', '--model', 'mlp', '--dataset=ring8', '--download',
    '--drop-last', '--no-drop-last', '--skip-bad-images=true', '--image-size', '32', '--channels=1',
    '--label-smoothing', '0.1', '--data-root', '/tmp/data', '--resume=runs/a', '--wire', 'bf16', '--seed', '7',
    '--', '--not-a-flag',
  ]);
  assert.equal(config.batchSize, 32);
  assert.equal(config.lr, 0.001);
  assert.equal(config.model, 'mlp');
  assert.equal(config.dataset, 'ring8');
  assert.equal(config.download, true);
  assert.equal(config.dropLast, false);
  assert.equal(config.skipBadImages, true);
  assert.equal(config.imageSize, 32);
  assert.equal(config.channels, 1);
  assert.equal(config.labelSmoothing, 0.1);
  assert.equal(config.dataRoot, '/tmp/data');
  assert.equal(config.resume, 'runs/a');
  assert.equal(config.wire, 'bf16');
  assert.equal(config.seed, 7);
  assert.equal(config.steps, defaultsFor('mlp').steps, "untouched fields keep their model's defaults");
  assert.equal(config.nz, DEFAULT_CONFIG.nz, 'and the common ones where the model has none');
  assert.deepEqual(positional, ['run1', '--not-a-flag']);
  assert.equal(parseArgs(['--lr', '2e-3']).config.lr, 0.002);
  assert.equal(parseArgs(['--download=false']).config.download, false);
  assert.equal(parseArgs(['--steps', '5', '--steps', '6']).config.steps, 6, 'last one wins');
});

test('per-model defaults: the MLP takes its own unless a flag says otherwise, wherever --model comes', () => {
  const mlp = parseArgs(['--model', 'mlp']).config;
  assert.deepEqual(mlp, defaultsFor('mlp'));
  assert.equal(mlp.dataset, 'ring8');
  assert.equal(mlp.lr, MODEL_DEFAULTS.mlp.lr);
  assert.notEqual(mlp.lr, DEFAULT_CONFIG.lr);
  const set = parseArgs(['--lr', '2e-4', '--batch-size', '64', '--model', 'mlp']).config;
  assert.equal(set.lr, 2e-4, 'a flag before --model still wins');
  assert.equal(set.batchSize, 64);
  assert.equal(set.steps, MODEL_DEFAULTS.mlp.steps);
  // A worker spawned from configToArgs gets the same config, including values equal to another model's defaults.
  assert.deepEqual(parseArgs(configToArgs(set)).config, set);
  assert.deepEqual(configToArgs(mlp), ['--model=mlp']);
  assert.deepEqual(parseArgs(['--model', 'dcgan']).config, { ...DEFAULT_CONFIG });
  assert.deepEqual(validateConfig({ model: 'mlp', lr: 1e-3 }), { ...defaultsFor('mlp'), lr: 1e-3 });
});

test('--help / -h is detected and suppresses errors', () => {
  assert.equal(parseArgs(['--help']).help, true);
  const r = parseArgs(['--steps', '3', '-h', '--bogus']);
  assert.equal(r.help, true);
  assert.equal(r.config.steps, 3);
});

test('allow restricts config flags; extra adds command flags with defaults', () => {
  const extra: Record<string, FieldSpec> = {
    listen: { type: 'string', help: 'address', default: '127.0.0.1:50051' },
    rank: { type: 'int', min: 0, help: 'worker rank' },
    verbose: { type: 'boolean', help: 'chatty' },
  };
  const r = parseArgs(['--rank', '2', '--out', 'o'], {
    allow: ['out', 'backend'], extra,
  });
  assert.deepEqual(r.extra, { listen: '127.0.0.1:50051', rank: 2, verbose: false });
  assert.equal(r.config.out, 'o');
  assert.equal(parseArgs(['--listen=0.0.0.0:1', '--verbose'], { extra }).extra.listen, '0.0.0.0:1');
  rejects(['--lr', '1'], /^unknown flag --lr \(this command does not take it\)$/, { allow: ['out'] });
  rejects(['--rank', 'x'], /^--rank must be a non-negative integer, got "x"$/, { extra });
  rejects(['--lisen', 'a'], /^unknown flag --lisen \(did you mean --listen\?\)$/, { extra });
  assert.throws(() => parseArgs([], { allow: ['nope'] }), /unknown config field 'nope'/);
  assert.throws(() => parseArgs([], { extra: { lr: { type: 'number', help: 'x' } } }), /clashes/);
  // A config flag the command does not take may be redefined by it.
  const own = parseArgs(['--out', 'x.safetensors'], { allow: ['backend'], extra: { out: { type: 'string', nullable: true, help: 'file' } } });
  assert.equal(own.extra.out, 'x.safetensors');
  assert.equal(parseArgs([], { allow: ['backend'], extra: { out: { type: 'string', nullable: true, help: 'file' } } }).extra.out, null);
});

test('each error message names the flag', () => {
  rejects(['--lrr', '1'], /^unknown flag --lrr \(did you mean --lr\?\)$/);
  rejects(['--batchsize', '1'], /^unknown flag --batchsize \(did you mean --batch-size\?\)$/);
  rejects(['--zzzzzzzz'], /^unknown flag --zzzzzzzz$/);
  rejects(['-x'], /^unknown flag -x$/);
  rejects(['--batch-size', 'abc'], /^--batch-size must be a positive integer, got "abc"$/);
  rejects(['--batch-size', '0'], /^--batch-size must be a positive integer, got "0"$/);
  rejects(['--batch-size', '1.5'], /^--batch-size must be a positive integer, got "1.5"$/);
  rejects(['--backend', 'tpu'], /^--backend must be one of auto\|tensorflow\|webgpu\|wasm\|cpu, got "tpu"$/);
  rejects(['--image-size', '48'], /^--image-size must be one of 28\|32\|64, got "48"$/);
  rejects(['--channels', '2'], /^--channels must be one of 1\|3, got "2"$/);
  rejects(['--label-smoothing', '0.5'], /^--label-smoothing must be a number in \[0, 0\.5\), got "0\.5"$/);
  rejects(['--label-smoothing=-0.1'], /^--label-smoothing must be a number in \[0, 0\.5\), got "-0\.1"$/);
  rejects(['--lr', '0'], /^--lr must be a positive number, got "0"$/);
  rejects(['--lr', '0x10'], /^--lr must be a positive number, got "0x10"$/);
  rejects(['--beta1', '1'], /^--beta1 must be a number in \[0, 1\), got "1"$/);
  rejects(['--lr'], /^--lr needs a value/);
  rejects(['--out', '--lr', '1'], /^--out needs a value/);
  rejects(['--out='], /^--out must be a non-empty string or null, got ""$/);
  rejects(['--seed', '-1'], /^--seed must be an integer in \[0, 4294967295\], got "-1"$/);
  rejects(['--download=maybe'], /^--download must be true or false, got "maybe"$/);
  rejects(['--no-lr'], /^unknown flag --no-lr/);
  rejects(['--workers', '2', '--min-workers', '3'], /^--min-workers \(3\) must not exceed --workers \(2\)$/);
});

test('--threads: a positive integer, null (per-process default) when left out, refused otherwise in one line', () => {
  assert.equal(parseArgs(['--threads', '2']).config.threads, 2);
  assert.equal(parseArgs(['--threads=1']).config.threads, 1);
  assert.equal(parseArgs([]).config.threads, null);
  rejects(['--threads', '0'], /^--threads must be a positive integer, got "0"$/);
  rejects(['--threads', 'x'], /^--threads must be a positive integer, got "x"$/);
  rejects(['--threads', '1.5'], /^--threads must be a positive integer, got "1\.5"$/);
  rejects(['--threads'], /^--threads needs a value \(a positive integer\)$/);
  assert.ok(formatHelp().includes('--threads N'), 'documented in help');
  // The launcher adds --threads for its workers; a config with it set must survive the trip to argv and back.
  const { config } = parseArgs(['--threads', '3']);
  assert.deepEqual(parseArgs(configToArgs(config)).config, config);
});

test('formatHelp aligns every accepted flag with its help and default', () => {
  const text = formatHelp({
    usage: 'gan-train worker [options]',
    allow: ['batchSize', 'download', 'backend'],
    extra: { coordinator: { type: 'string', metavar: 'HOST:PORT', help: 'coordinator address' } },
  });
  const lines = text.split('\n');
  assert.equal(lines[0], 'Usage: gan-train worker [options]');
  const rows = lines.filter((l) => l.startsWith('  -'));
  assert.equal(rows.length, 6);
  const starts = rows.map((l) => {
    const m = /^( {2}\S(?:.*?\S)?)( {2,})\S/.exec(l);
    assert.ok(m, `row without a help column: ${l}`);
    return m[1].length + m[2].length;
  });
  assert.equal(new Set(starts).size, 1, `help column not aligned:\n${text}`);
  assert.ok(text.includes('--batch-size N'));
  assert.ok(text.includes('batch size per worker (default 64; mlp: 256)'), text);
  assert.ok(text.includes('--[no-]download'));
  assert.ok(text.includes('--coordinator HOST:PORT'));
  assert.ok(text.includes('--config FILE'), 'every command takes --config');
  assert.ok(text.includes('auto|tensorflow|webgpu|wasm|cpu'));
  assert.ok(!text.includes('--lr'), 'flags the command does not take are not listed');
  const full = formatHelp();
  for (const k of CONFIG_KEYS) {
    const { flag, type } = CONFIG_FIELDS[k];
    assert.ok(full.includes(type === 'boolean' ? `--[no-]${flag.slice(2)}` : `${flag} `), k);
  }
});

test('configToArgs round-trips through parseArgs', () => {
  const { config } = parseArgs(['--lr', '0.00013', '--no-download', '--drop-last', '--out=-weird', '--workers', '3']);
  assert.equal(config.out, '-weird');
  const args = configToArgs(config);
  assert.deepEqual(parseArgs(args).config, config);
  assert.ok(args.includes('--drop-last') && !args.some((a) => a.startsWith('--download')));
});
