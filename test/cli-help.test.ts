// Every command's --help runs and says what the command then does: classifier's --image-size default is one the
// command accepts and its --out is a file (or folder), as its usage line says; a refused size is one clear line.
// Run: node tools/run-tests.mjs test cli-help
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { killAll, runCli } from './helpers';

after(killAll);

test('every command has a help page', { timeout: 120_000 }, async () => {
  const top = await runCli(['--help'], { timeoutMs: 30_000 });
  const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
  for (const c of ['train', 'eval', 'export', 'sample', 'classifier', 'local', 'token', 'coordinator', 'worker']) assert.ok(commands.includes(c), `top help lists ${c}`);
  for (const c of commands) {
    const r = await runCli([c, '--help'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `${c} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: gan-train ${c}`), c);
  }
});

test("classifier's help gives a default it accepts, and a refused size is one line", { timeout: 60_000 }, async () => {
  const h = await runCli(['classifier', '--help'], { timeoutMs: 30_000 });
  const size = /--image-size N .*\(default (\d+)\)/.exec(h.stdout);
  assert.ok(size && (size[1] === '28' || size[1] === '32'), h.stdout);
  assert.match(h.stdout, /--out FILE +a \.safetensors file/);
  const r = await runCli(['classifier', '--data-root', '/nonexistent', '--image-size', '30'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^gan-train: error: .*image-size.*\n$/m);
});
