// Tests for the coordinator's and worker's GAN_* environment contract (env-flags.ts) as parseArgs applies it: typed
// values, precedence (flag > variable > --config file > default), one-line errors naming the variable, roles kept
// apart, and the help text naming each variable beside its flag.
// Run: node tools/run-tests.mjs libs/config env-flags
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  CONFIG_FILE_ENV, ConfigError, DEFAULT_CONFIG, DISTRIBUTED_FLAGS, ENV_FLAGS, RUN_SECRET_ENV, envVarsOf, formatHelp, parseArgs,
  type EnvRole, type ParseOptions,
} from './index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-env-flags-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What command-main.ts passes for a role, with `vars` as the environment. */
function opts(role: EnvRole, vars: Record<string, string>): ParseOptions {
  return { extra: DISTRIBUTED_FLAGS[role], env: { role, vars } };
}

function rejects(argv: string[], o: ParseOptions, pattern: RegExp): string {
  let caught: unknown;
  try {
    parseArgs(argv, o);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.ok(!caught.message.includes('\n'), 'one line');
  return caught.message;
}

/** A valid value for every variable of the contract, as a Kubernetes manifest would set them. */
const WORKER_ENV = {
  GAN_COORDINATOR: 'gan-train-coordinator:29500', GAN_ADVERTISE: '10.1.2.3', GAN_BIND: '0.0.0.0', GAN_PORT: '29501',
  GAN_DATA_PORT: '29502', GAN_WORKER_ID: '2', GAN_WORKERS: '4', GAN_MIN_WORKERS: '3', GAN_OUT: '/runs/r1',
};
const COORDINATOR_ENV = { GAN_LISTEN: '0.0.0.0:29500', GAN_WORKERS: '4', GAN_MIN_WORKERS: '3', GAN_HTTP: '0.0.0.0:9100', GAN_OUT: '/runs/r1' };

test('the worker takes its rendezvous from the environment, typed by the flags\' rules', () => {
  const r = parseArgs([], opts('worker', WORKER_ENV));
  assert.deepEqual(
    { coordinator: r.extra.coordinator, advertise: r.extra.advertise, bind: r.extra.bind, port: r.extra.port, dataPort: r.extra.dataPort, workerId: r.extra.workerId },
    { coordinator: 'gan-train-coordinator:29500', advertise: '10.1.2.3', bind: '0.0.0.0', port: 29501, dataPort: 29502, workerId: '2' },
  );
  assert.equal(r.config.workers, 4);
  assert.equal(r.config.minWorkers, 3);
  assert.equal(r.config.out, '/runs/r1');
  assert.deepEqual(r.fromEnv, Object.fromEntries(Object.entries(ENV_FLAGS.worker).map(([v, f]) => [f, v])));
});

test('the coordinator takes its own variables and ignores the worker\'s (and the other way round)', () => {
  const both = { ...WORKER_ENV, ...COORDINATOR_ENV, GAN_WORKERS: '5' };
  const c = parseArgs([], opts('coordinator', both));
  assert.equal(c.extra.listen, '0.0.0.0:29500');
  assert.equal(c.extra.http, '0.0.0.0:9100');
  assert.equal(c.config.workers, 5);
  assert.equal(c.extra.advertise, undefined, 'the coordinator has no --advertise');
  assert.ok(!Object.values(c.fromEnv).includes('GAN_ADVERTISE'));
  const w = parseArgs([], opts('worker', both));
  assert.equal(w.extra.listen, undefined);
  assert.ok(!Object.values(w.fromEnv).includes('GAN_LISTEN') && !Object.values(w.fromEnv).includes('GAN_HTTP'));
});

test('an explicit flag wins over its variable, in either spelling; the variable wins over the default', () => {
  const r = parseArgs(['--advertise', '10.9.9.9', '--port=7000', '--workers', '2', '--min-workers=0'], opts('worker', WORKER_ENV));
  assert.equal(r.extra.advertise, '10.9.9.9');
  assert.equal(r.extra.port, 7000);
  assert.equal(r.config.workers, 2);
  assert.equal(r.config.minWorkers, 0);
  assert.equal(r.extra.dataPort, 29502, 'the variables of flags not given still apply');
  assert.ok(!('advertise' in r.fromEnv) && !('port' in r.fromEnv) && !('workers' in r.fromEnv));
  // A bad variable behind a flag that overrides it is never read.
  const ok = parseArgs(['--port', '1'], opts('worker', { GAN_PORT: 'not-a-port' }));
  assert.equal(ok.extra.port, 1);
  // Without variables: the flags' defaults.
  const none = parseArgs([], opts('worker', {}));
  assert.equal(none.extra.coordinator, '127.0.0.1:29500');
  assert.equal(none.extra.advertise, '127.0.0.1');
  assert.equal(none.extra.workerId, null);
  assert.equal(none.config.workers, DEFAULT_CONFIG.workers);
});

test('an empty variable counts as unset; values are trimmed', () => {
  const r = parseArgs([], opts('worker', { GAN_ADVERTISE: '', GAN_PORT: '', GAN_COORDINATOR: ' c:1 \n' }));
  assert.equal(r.extra.advertise, '127.0.0.1');
  assert.equal(r.extra.port, 0);
  assert.equal(r.extra.coordinator, 'c:1');
});

test('a bad value is a one-line error naming the variable and its flag', () => {
  rejects([], opts('worker', { GAN_PORT: '70000' }), /^GAN_PORT \(for --port\) must be an integer in \[0, 65535\], got "70000"$/);
  rejects([], opts('worker', { GAN_DATA_PORT: 'x' }), /^GAN_DATA_PORT \(for --data-port\) must be/);
  rejects([], opts('coordinator', { GAN_WORKERS: '0' }), /^GAN_WORKERS \(for --workers\) must be a positive integer, got "0"$/);
  rejects([], opts('coordinator', { GAN_WORKERS: '2.5' }), /^GAN_WORKERS/);
  rejects([], opts('coordinator', { GAN_MIN_WORKERS: '-1' }), /^GAN_MIN_WORKERS \(for --min-workers\)/);
  // Cross-field rules name the variable a value came from.
  rejects([], opts('coordinator', { GAN_WORKERS: '2', GAN_MIN_WORKERS: '3' }), /^GAN_MIN_WORKERS \(3\) must not exceed GAN_WORKERS \(2\)$/);
  rejects(['--workers', '2'], opts('coordinator', { GAN_MIN_WORKERS: '3' }), /^GAN_MIN_WORKERS \(3\) must not exceed --workers \(2\)$/);
  // A flag error comes first, and --help shows help whatever the environment holds.
  rejects(['--nope'], opts('worker', { GAN_PORT: 'x' }), /^unknown flag --nope/);
  assert.equal(parseArgs(['--help'], opts('worker', { GAN_PORT: 'x', GAN_CONFIG: '/nonexistent.yaml' })).help, true);
});

test('GAN_CONFIG names a --config file; the variables win over it, flags over both, and --config over GAN_CONFIG', () => {
  const shared = path.join(dir, 'train.yaml');
  fs.writeFileSync(shared, 'workers: 3\nsteps: 50\nimage-size: 32\nout: /runs/from-file\n');
  const r = parseArgs(['--steps', '60'], opts('worker', { GAN_CONFIG: shared, GAN_WORKERS: '4' }));
  assert.equal(r.configFile, shared);
  assert.equal(r.config.imageSize, 32, 'from the file');
  assert.equal(r.config.out, '/runs/from-file', 'from the file');
  assert.equal(r.config.workers, 4, 'the variable wins over the file');
  assert.equal(r.config.steps, 60, 'the flag wins over the file');
  const other = path.join(dir, 'other.yaml');
  fs.writeFileSync(other, 'image-size: 28\n');
  const f = parseArgs(['--config', other], opts('worker', { GAN_CONFIG: shared }));
  assert.equal(f.configFile, other);
  assert.equal(f.config.imageSize, 28);
  assert.equal(f.config.steps, DEFAULT_CONFIG.steps, 'GAN_CONFIG\'s file is not read when --config is given');
  // Errors in GAN_CONFIG's file say where the file name came from.
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'workers: many\n');
  rejects([], opts('coordinator', { GAN_CONFIG: bad }), /^config file .*bad\.yaml \(from GAN_CONFIG\): key 'workers' must be a positive integer/);
  rejects([], opts('coordinator', { GAN_CONFIG: path.join(dir, 'missing.yaml') }), /missing\.yaml/);
});

test('commands without `env` read no variable', () => {
  const r = parseArgs([], { extra: DISTRIBUTED_FLAGS.worker });
  assert.equal(r.extra.advertise, '127.0.0.1');
  const t = parseArgs([], { allow: ['workers', 'out'] });
  assert.equal(t.config.workers, 1);
  assert.deepEqual(t.fromEnv, {});
});

test('the contract names only flags the commands declare, and lists the run secret\'s variables', () => {
  for (const role of ['coordinator', 'worker'] as const) {
    for (const field of Object.values(ENV_FLAGS[role])) {
      assert.ok(Object.hasOwn(DISTRIBUTED_FLAGS[role], field) || Object.hasOwn(DEFAULT_CONFIG, field), `${role}: ${field} is no flag of it`);
    }
    const vars = envVarsOf(role);
    assert.equal(new Set(vars).size, vars.length, 'no variable twice');
    assert.ok(vars.every((v) => /^GAN_[A-Z_]+$/.test(v)), vars.join(' '));
    assert.ok(vars.includes(CONFIG_FILE_ENV));
    for (const v of RUN_SECRET_ENV) assert.ok(vars.includes(v));
  }
  assert.deepEqual([...RUN_SECRET_ENV], ['GAN_TOKEN', 'GAN_TOKEN_FILE']);
});

test('--help names each variable beside the flag it can replace', () => {
  for (const role of ['coordinator', 'worker'] as const) {
    const help = formatHelp({ ...opts(role, {}), usage: `gan-train ${role}` });
    for (const [v, field] of Object.entries(ENV_FLAGS[role])) {
      const flag = '--' + field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
      const row = help.split('\n').find((l) => l.trimStart().startsWith(`${flag} `));
      assert.ok(row, `${role}: no row for ${flag}`);
      const at = help.indexOf(row);
      // The row's text may wrap onto the next line when the flag is long.
      assert.ok(help.slice(at, help.indexOf('\n', help.indexOf('\n', at) + 1)).includes(`[env ${v}]`), `${role}: ${flag} does not mention ${v}:\n${row}`);
    }
    assert.match(help, /--config FILE .*\[env GAN_CONFIG\]/);
    assert.match(help, /GAN_TOKEN \/ GAN_TOKEN_FILE/, 'the token file flag names the secret\'s variables');
    assert.match(help, /a flag given here wins over it/);
  }
  assert.doesNotMatch(formatHelp({ extra: DISTRIBUTED_FLAGS.worker }), /\[env /);
});
