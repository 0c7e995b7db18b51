// Run-folder helpers: default names never collide, a run's files are recognised, prepareRunDir refuses, resumes and
// overwrites as documented, and writes nothing but removes only run files. Run: node tools/run-tests.mjs libs/training run-dir
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultRunDir, prepareRunDir, runFilesIn } from './run-dir';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'run-dir-'));

test('defaultRunDir names the UTC start time and never reuses a folder', () => {
  const root = tmp();
  const at = new Date(Date.UTC(2026, 11, 2, 20, 4, 5));
  const a = defaultRunDir(root, at);
  assert.equal(a, path.join(root, '20261202-200405'));
  fs.mkdirSync(a);
  const b = defaultRunDir(root, at);
  assert.equal(b, path.join(root, '20261202-200405-2'));
  fs.mkdirSync(b);
  assert.equal(defaultRunDir(root, at), path.join(root, '20261202-200405-3'));
});

test('prepareRunDir: empty or absent folders pass; a run is refused, resumed, or overwritten (its files only)', () => {
  const dir = tmp();
  prepareRunDir(path.join(dir, 'absent'), { resume: null, overwrite: false });
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
  prepareRunDir(dir, { resume: null, overwrite: false });
  assert.deepEqual(runFilesIn(dir), []);
  fs.mkdirSync(path.join(dir, 'checkpoints'));
  fs.writeFileSync(path.join(dir, 'checkpoints', 'ckpt_000001.safetensors'), 'x');
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{}\n');
  fs.writeFileSync(path.join(dir, 'fake_samples_step_000001.png'), 'x');
  assert.deepEqual(runFilesIn(dir), ['checkpoints', 'fake_samples_step_000001.png', 'metrics.jsonl']);
  assert.throws(() => prepareRunDir(dir, { resume: null, overwrite: false }), (e: Error) =>
    /^--out .* holds another run \(checkpoints, fake_samples_step_000001\.png, metrics\.jsonl\): continue it with --resume/.test(e.message) &&
    !e.message.includes('\n'));
  prepareRunDir(dir, { resume: dir, overwrite: false });
  assert.equal(runFilesIn(dir).length, 3, 'resuming keeps the run');
  prepareRunDir(dir, { resume: null, overwrite: true });
  assert.deepEqual(runFilesIn(dir), []);
  assert.deepEqual(fs.readdirSync(dir), ['notes.txt'], 'other files stay');
  const file = path.join(dir, 'notes.txt');
  assert.throws(() => prepareRunDir(file, { resume: null, overwrite: false }), /is a file, not a folder/);
});

test('a folder holding only TensorBoard events (tb/) holds a run; --overwrite removes them', () => {
  const dir = tmp();
  fs.mkdirSync(path.join(dir, 'tb'));
  fs.writeFileSync(path.join(dir, 'tb', 'events.out.tfevents.1700000000.host'), 'x');
  assert.deepEqual(runFilesIn(dir), ['tb']);
  assert.throws(() => prepareRunDir(dir, { resume: null, overwrite: false }), /holds another run \(tb\)/);
  prepareRunDir(dir, { resume: null, overwrite: true });
  assert.deepEqual(fs.readdirSync(dir), []);
});
