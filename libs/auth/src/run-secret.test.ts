// The run secret: where it is read from, what is refused, and that derived values are stable, distinct and bound
// to their fields. Run: node tools/run-tests.mjs libs/auth run-secret
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { RunSecret, sameText } from './run-secret';

const TEXT = 'a'.repeat(64);

test('resolve: --token-file wins over GAN_TOKEN, which wins over GAN_TOKEN_FILE; none gives undefined', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-secret-'));
  const f1 = path.join(dir, 'one');
  const f2 = path.join(dir, 'two');
  fs.writeFileSync(f1, `${'1'.repeat(64)}\n`);
  fs.writeFileSync(f2, '2'.repeat(64));
  const env = { GAN_TOKEN: '3'.repeat(64), GAN_TOKEN_FILE: f2 };
  assert.equal(RunSecret.resolve(f1, env)!.exportText(), '1'.repeat(64)); // trailing newline ignored
  assert.equal(RunSecret.resolve(undefined, env)!.source, 'GAN_TOKEN');
  assert.equal(RunSecret.resolve(undefined, { GAN_TOKEN_FILE: f2 })!.exportText(), '2'.repeat(64));
  assert.equal(RunSecret.resolve(undefined, {}), undefined);
  fs.rmSync(dir, { recursive: true });
});

test('a short secret or a missing file is refused with one line that does not print the secret', () => {
  assert.throws(() => RunSecret.fromText('hunter2', 'GAN_TOKEN'), (e: Error) => /at least 32/.test(e.message) && !e.message.includes('hunter2') && !e.message.includes('\n'));
  assert.throws(() => RunSecret.fromFile('/nonexistent/token'), /cannot read the token file \/nonexistent\/token: ENOENT/);
});

test('derived values: stable for one secret, different across secrets and labels, MACs bound to every field', () => {
  const a = RunSecret.fromText(TEXT, 't');
  const b = RunSecret.fromText('b'.repeat(64), 't');
  assert.equal(a.jobId, RunSecret.fromText(TEXT, 'u').jobId);
  assert.notEqual(a.jobId, b.jobId);
  assert.notEqual(a.rpcToken, b.rpcToken);
  assert.ok(!a.rpcToken.includes(TEXT) && !a.jobId.includes(TEXT));
  const m = a.mac('label', 'job', 3, 1);
  assert.ok(a.verify(m, 'label', 'job', 3, 1));
  assert.ok(!a.verify(m, 'label', 'job', 3, 2));
  assert.ok(!a.verify(m, 'other', 'job', 3, 1));
  assert.ok(!b.verify(m, 'label', 'job', 3, 1));
  // Field boundaries count: ('ab', 'c') and ('a', 'bc') differ.
  assert.notDeepEqual(a.mac('l', 'ab', 'c'), a.mac('l', 'a', 'bc'));
  assert.ok(!a.verify(m.subarray(0, 16), 'label', 'job', 3, 1));
  assert.ok(!a.verify(undefined, 'label', 'job', 3, 1));
  assert.ok(sameText('x', 'x') && !sameText('x', 'y') && !sameText('x', 'xx'));
  assert.match(RunSecret.generateText(), /^[0-9a-f]{64}$/);
  assert.notEqual(RunSecret.generateText(), RunSecret.generateText());
});

test('a derived key: stable per context, different per context and from the secret, never exported', () => {
  const a = RunSecret.fromText(TEXT, 't');
  const k1 = a.derive('gan-train/link-key/v1', 1, Buffer.from('nonce-one'));
  const m = k1.mac('label', 'x');
  assert.ok(a.derive('gan-train/link-key/v1', 1, Buffer.from('nonce-one')).verify(m, 'label', 'x'));
  assert.ok(!a.derive('gan-train/link-key/v1', 2, Buffer.from('nonce-one')).verify(m, 'label', 'x'));
  assert.ok(!a.derive('gan-train/link-key/v1', 1, Buffer.from('nonce-two')).verify(m, 'label', 'x'));
  assert.ok(!a.verify(m, 'label', 'x'));
  assert.throws(() => k1.exportText(), /derived key is not exported/);
});
