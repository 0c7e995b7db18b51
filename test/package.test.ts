// The installable package, as a user gets it: `npm pack` (which builds the bundles and declarations), `npm install
// -g` of the tarball into a fresh prefix (npm's cache first, the registry otherwise), then the installed
// `gan-train`: --help, a short training run, `local --workers 2` (which starts the bundled worker app: the package
// holds no TypeScript sources), and README's API example, type-checked strictly against the installed declarations
// (a mistyped option must fail) and run. Run: node tools/run-tests.mjs test package
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { killAll, ROOT, tmpDir } from './helpers';

after(killAll);

let prefix = '';
let bin = '';
let pkgDir = '';
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
const tsc = (file: string, cwd: string) => {
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--strict', '--skipLibCheck', file], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return '';
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
};
const run = (args: string[], cwd: string, timeout = 180_000) =>
  execFileSync(bin, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout, env: { ...process.env, GAN_TOKEN: '' } });

before(async () => {
  const dir = tmpDir('package');
  npm(['pack', '--pack-destination', dir, '--silent'], ROOT);
  const tgz = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz, 'npm pack made a tarball');
  prefix = path.join(dir, 'prefix');
  npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(dir, tgz)], dir);
  bin = path.join(prefix, 'bin', 'gan-train');
  pkgDir = path.join(prefix, 'lib', 'node_modules', 'gan-train');
});

test('the tarball holds the bundles, declarations and protos, and no TypeScript sources', () => {
  assert.ok(fs.existsSync(bin), 'npm linked the gan-train command');
  for (const f of ['dist/apps/cli/main.mjs', 'dist/apps/worker/main.mjs', 'dist/apps/worker/heartbeat-worker.mjs', 'dist/apps/coordinator/main.mjs', 'dist/libs/api/index.mjs', 'dist/types/libs/api/src/index.d.ts', 'protos/coordinator.proto']) {
    assert.ok(fs.existsSync(path.join(pkgDir, f)), f);
  }
  assert.ok(!fs.existsSync(path.join(pkgDir, 'apps')) && !fs.existsSync(path.join(pkgDir, 'libs')), 'no sources shipped');
});

test('the installed command trains, and local --workers 2 runs its bundled workers', { timeout: 600_000 }, () => {
  const cwd = tmpDir('package-run');
  assert.match(run(['--help'], cwd), /^Usage: gan-train <command>/);
  run(['train', '--model', 'mlp', '--dataset', 'ring8', '--steps', '20', '--backend', 'wasm', '--out', 'one'], cwd);
  assert.ok(fs.existsSync(path.join(cwd, 'one', 'metrics.jsonl')));
  const local = spawnSync(bin, ['local', '--workers', '2', '--model', 'mlp', '--dataset', 'ring8', '--steps', '5', '--backend', 'wasm', '--out', 'two'], {
    cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, GAN_TOKEN: '' },
  });
  assert.equal(local.status, 0, local.stderr.slice(-2000));
  // The bundled worker app starts its heartbeat thread from the bundle beside it (there is no TypeScript to run).
  assert.doesNotMatch(local.stderr, /heartbeat thread failed/);
  const rows = fs.readFileSync(path.join(cwd, 'two', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.at(-1).step, 5);
  assert.equal(rows.at(-1).world_size, 2);
});

test("README's API example type-checks against the installed declarations and runs", { timeout: 600_000 }, () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- api-example -->\s*```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README has the API example');
  // Beside the prefix's node_modules, so `import … from 'gan-train'` finds the installed package.
  const dir = path.join(prefix, 'lib');
  fs.writeFileSync(path.join(dir, 'example.mts'), m[1]);
  fs.writeFileSync(path.join(dir, 'example.mjs'), m[1]);
  assert.equal(tsc('example.mts', dir), '', 'the example type-checks');
  fs.writeFileSync(path.join(dir, 'wrong.mts'), "import { train } from 'gan-train';\nawait train({ steps: '300' });\n");
  assert.match(tsc('wrong.mts', dir), /wrong\.mts.*Type 'string' is not assignable to type 'number'/, 'a mistyped option is a type error');
  const out = execFileSync(process.execPath, ['example.mjs'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  assert.match(out, /^step 300: \d of 8 modes, [\d.]+ % high quality$/m);
  assert.match(out, /^samples in .*samples_step_000300_seed_1\.png$/m);
});
