// Tests for validateConfig (configs read as data) and the cross-worker fingerprint / diff.
// Run: node tools/run-tests.mjs libs/config validate
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConfigError, DEFAULT_CONFIG, diffConfigs, fingerprint, formatConfigDiff, parseArgs, validateConfig,
  type TrainConfig,
} from './index';

function rejects(obj: unknown, pattern: RegExp): void {
  assert.throws(() => validateConfig(obj), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

test('validateConfig fills missing keys from defaults and keeps given ones', () => {
  const c = validateConfig({ lr: 0.001, dataRoot: '/d', resume: null, channels: 1 });
  assert.deepEqual(c, { ...DEFAULT_CONFIG, lr: 0.001, dataRoot: '/d', channels: 1 });
  assert.equal(validateConfig({ threads: null }).threads, null);
  assert.equal(validateConfig({ threads: 4 }).threads, 4);
  assert.deepEqual(validateConfig({}), { ...DEFAULT_CONFIG });
  // A full config survives a JSON round trip unchanged.
  const full = parseArgs(['--model', 'mlp', '--steps', '9', '--wire', 'fp16']).config;
  assert.deepEqual(validateConfig(JSON.parse(JSON.stringify(full))), full);
});

test('validateConfig rejects unknown keys, wrong types and bad values', () => {
  rejects({ lrr: 0.1 }, /^config has unknown field 'lrr' \(did you mean 'lr'\?\)$/);
  rejects({ totallyUnknown: 1 }, /^config has unknown field 'totallyUnknown'$/);
  rejects({ lr: '0.001' }, /^config field 'lr' must be a positive number, got "0.001"$/);
  rejects({ batchSize: 1.5 }, /^config field 'batchSize' must be a positive integer, got 1.5$/);
  rejects({ download: 'yes' }, /^config field 'download' must be true or false, got "yes"$/);
  rejects({ imageSize: '64' }, /^config field 'imageSize' must be one of 28\|32\|64, got "64"$/);
  rejects({ backend: 'tpu' }, /^config field 'backend' must be one of/);
  rejects({ out: '' }, /^config field 'out' must be a non-empty string or null, got ""$/);
  rejects({ labelSmoothing: 0.6 }, /^config field 'labelSmoothing' must be a number in \[0, 0\.5\)/);
  rejects({ workers: 2, minWorkers: 3 }, /must not exceed config field 'workers'/);
  rejects({ loss: 'hinge', labelSmoothing: 0.1 }, /^config field 'labelSmoothing' applies to the BCE losses \(non-saturating, minimax\), not config field 'loss' hinge$/);
  rejects({ loss: 'wgan-gp', norm: 'none', labelSmoothing: 0.1 }, /^config field 'labelSmoothing' applies to the BCE losses \(non-saturating, minimax\), not config field 'loss' wgan-gp$/);
  rejects({ optimizer: 'rmsprop', beta1: 0 }, /^config field 'beta1' applies to config field 'optimizer' adam, not rmsprop$/);
  rejects({ optimizer: 'rmsprop', beta2: 0.9 }, /^config field 'beta2' applies to config field 'optimizer' adam, not rmsprop$/);
  rejects({ loss: 'hinge', clip: 0.05 }, /^config field 'clip' \(weight clipping\) applies to config field 'loss' wgan, not hinge$/);
  rejects({ clip: 0.05 }, /^config field 'clip' \(weight clipping\) applies to config field 'loss' wgan, not non-saturating$/);
  rejects({ loss: 'wgan-gp', norm: 'none', clip: 0.02 }, /^config field 'clip' \(weight clipping\) applies to config field 'loss' wgan, not wgan-gp: its gradient penalty \(config field 'gpWeight'\) replaces clipping$/);
  rejects({ loss: 'wgan', gpWeight: 5 }, /^config field 'gpWeight' applies to config field 'loss' wgan-gp, not wgan$/);
  rejects({ loss: 'wgan-gp' }, /^config field 'loss' wgan-gp needs config field 'norm' none: its gradient penalty is per sample/);
  rejects({ loss: 'wgan-gp', norm: 'none', gpWeight: -1 }, /^config field 'gpWeight' must be a non-negative number, got -1$/);
  assert.equal(validateConfig({ loss: 'wgan-gp', norm: 'none', gpWeight: 0 }).gpWeight, 0);
  assert.equal(validateConfig({ model: 'mlp', loss: 'wgan-gp' }).gpWeight, 10); // the MLP has no BatchNorm to drop
  rejects({ clip: 0 }, /^config field 'clip' must be a positive number, got 0$/);
  rejects({ nCritic: 0 }, /^config field 'nCritic' must be a positive integer, got 0$/);
  rejects({ unrolled: -1 }, /^config field 'unrolled' must be/);
  rejects({ threads: 0 }, /^config field 'threads' must be a positive integer, got 0$/);
  rejects({ threads: '2' }, /^config field 'threads' must be a positive integer, got "2"$/);
  rejects(null, /^config must be a JSON object, got null$/);
  rejects([1], /^config must be a JSON object, got an array$/);
  rejects('x', /^config must be a JSON object, got string$/);
});

test('fingerprint: stable under key order, changed by lr, not by out', () => {
  const base = { ...DEFAULT_CONFIG } as TrainConfig;
  const reversed = Object.fromEntries(Object.entries(base).reverse()) as unknown as TrainConfig;
  assert.deepEqual(Object.keys(reversed)[0], 'maxRestarts');
  const fp = fingerprint(base);
  assert.match(fp, /^[0-9a-f]{64}$/);
  assert.equal(fingerprint(reversed), fp);
  assert.notEqual(fingerprint({ ...base, lr: 0.001 }), fp);
  assert.notEqual(fingerprint({ ...base, wire: 'bf16' }), fp);
  assert.equal(fingerprint({ ...base, out: 'elsewhere', workers: 4, backend: 'cpu', resume: 'x' }), fp);
  // Threads are per process: workers on machines with other core counts still join the same run.
  assert.equal(fingerprint({ ...base, threads: 8 }), fp);
  assert.deepEqual(diffConfigs(base, { ...base, threads: 3 }), []);
});

test('diffConfigs names the differing fingerprint fields only', () => {
  const a = { ...DEFAULT_CONFIG } as TrainConfig;
  const b: TrainConfig = { ...a, lr: 0.001, seed: 2, out: 'x', heartbeatMs: 5 };
  assert.deepEqual(diffConfigs(a, b), ['lr', 'seed']);
  assert.deepEqual(diffConfigs(a, { ...a }), []);
  assert.deepEqual(formatConfigDiff(a, b), [
    "config field 'lr' differs: coordinator 0.0002, worker 0.001",
    "config field 'seed' differs: coordinator 1, worker 2",
  ]);
  assert.deepEqual(formatConfigDiff(a, { ...a, model: 'mlp' }, { a: 'checkpoint', b: 'command line' }), [
    "config field 'model' differs: checkpoint dcgan, command line mlp",
  ]);
});
