// Tests for CheckpointManager (naming, listing, retention, corrupt-file fallback, load of file or directory) and
// for the atomic write (no temp files left, never a partial file under the final name).
// Run: node tools/run-tests.mjs libs/checkpoint checkpoint-manager
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  CheckpointError, CheckpointManager, checkpointFileName, readSafetensors, writeFileAtomic, writeSafetensors,
  type NamedTensor,
} from './index';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-ckpt-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (): string => path.join(root, `run${counter++}`, 'checkpoints');

/** Tensors whose values depend on the step, so a load can tell which checkpoint it got. */
const tensorsFor = (step: number): NamedTensor[] => [
  { name: 'g.w', dtype: 'F32', shape: [2, 3], data: new Float32Array(6).map((_, i) => step + i / 10) },
  { name: 'd.b', dtype: 'F32', shape: [3], data: new Float32Array([step, -step, 0.5]) },
];

function recordingLogger(): { warnings: { obj: object; msg?: string }[]; warn(obj: object, msg?: string): void } {
  const warnings: { obj: object; msg?: string }[] = [];
  return { warnings, warn: (obj, msg) => warnings.push({ obj, msg }) };
}

function flipLastByte(p: string): void {
  const buf = fs.readFileSync(p);
  buf[buf.length - 1] ^= 0xff;
  fs.writeFileSync(p, buf);
}

test('file names pad the step to 6 digits', () => {
  assert.equal(checkpointFileName(100), 'ckpt_000100.safetensors');
  assert.equal(checkpointFileName(0), 'ckpt_000000.safetensors');
  assert.equal(checkpointFileName(12345678), 'ckpt_12345678.safetensors');
  assert.throws(() => checkpointFileName(-1), /non-negative integer/);
  assert.throws(() => new CheckpointManager('x', { keep: 0 }), /keep must be a positive integer/);
});

test('save writes ckpt_<step>, adds step metadata, list sorts by step, retention keeps K', async () => {
  const dir = freshDir();
  const mgr = new CheckpointManager(dir, { keep: 2 });
  assert.deepEqual(await mgr.list(), [], 'missing directory lists as empty');
  assert.equal(await mgr.loadLatest(), null);
  // Steps out of order and past 999999 to check numeric (not lexical) sorting.
  for (const step of [5, 100, 40, 1_000_000]) {
    const p = await mgr.save(step, tensorsFor(step), { format: 'test' });
    assert.equal(p, path.join(dir, checkpointFileName(step)));
  }
  assert.deepEqual((await mgr.list()).map((c) => c.step), [100, 1_000_000]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['ckpt_000100.safetensors', 'ckpt_1000000.safetensors']);
  const latest = await mgr.loadLatest();
  assert.ok(latest);
  assert.equal(latest.step, 1_000_000);
  assert.equal(latest.metadata.step, '1000000');
  assert.equal(latest.metadata.format, 'test');
  assert.deepEqual([...latest.tensors.get('d.b')!.data], [1_000_000, -1_000_000, 0.5]);

  const keep3 = new CheckpointManager(freshDir(), { keep: 3 });
  for (let step = 1; step <= 6; step++) await keep3.save(step * 10, tensorsFor(step), {});
  assert.deepEqual((await keep3.list()).map((c) => c.step), [40, 50, 60]);
});

test('loadLatest skips a corrupt newest checkpoint with a warning and falls back to the previous one', async () => {
  const dir = freshDir();
  const logger = recordingLogger();
  const mgr = new CheckpointManager(dir, { keep: 3, logger });
  for (const step of [10, 20, 30]) await mgr.save(step, tensorsFor(step), {});
  flipLastByte(path.join(dir, checkpointFileName(30)));
  // Truncate the middle one too: two skips, two warnings.
  const mid = path.join(dir, checkpointFileName(20));
  fs.truncateSync(mid, fs.statSync(mid).size - 7);

  const got = await mgr.loadLatest();
  assert.ok(got);
  assert.equal(got.step, 10);
  assert.equal(got.path, path.join(dir, checkpointFileName(10)));
  assert.deepEqual([...got.tensors.get('d.b')!.data], [10, -10, 0.5]);
  assert.equal(logger.warnings.length, 2);
  assert.match(logger.warnings[0].msg ?? '', /ckpt_000030\.safetensors is corrupt: data checksum mismatch/);
  assert.match(logger.warnings[1].msg ?? '', /ckpt_000020\.safetensors is truncated/);
  assert.equal((logger.warnings[0].obj as { path: string }).path, path.join(dir, checkpointFileName(30)));

  // load(dir) behaves the same; load(file) of the corrupt one is an error naming it.
  assert.equal((await mgr.load(dir)).step, 10);
  await assert.rejects(mgr.load(path.join(dir, checkpointFileName(30))), (e: unknown) =>
    e instanceof CheckpointError && /ckpt_000030\.safetensors is corrupt/.test(e.message));

  // Every checkpoint corrupt: an error, not a silent fresh start.
  flipLastByte(path.join(dir, checkpointFileName(10)));
  await assert.rejects(mgr.loadLatest(), /no valid checkpoint in .*: all 3 are corrupt/);
});

test('load: a file loads that file, a run directory its latest, missing or empty paths are errors', async () => {
  const dir = freshDir();
  const mgr = new CheckpointManager(dir, { keep: 5 });
  await mgr.save(7, tensorsFor(7), {});
  await mgr.save(8, tensorsFor(8), {});
  const f7 = await mgr.load(path.join(dir, checkpointFileName(7)));
  assert.equal(f7.step, 7);
  assert.deepEqual([...f7.tensors.get('d.b')!.data], [7, -7, 0.5]);

  // A manager made for another directory can still load any path (resume from elsewhere).
  const other = new CheckpointManager(path.join(root, 'unused'), { keep: 1 });
  assert.equal((await other.load(dir)).step, 8);
  assert.equal(fs.existsSync(path.join(root, 'unused')), false, 'constructing and loading creates nothing');

  const plain = path.join(root, 'plain.safetensors');
  await writeSafetensors(plain, tensorsFor(3), { note: 'x' });
  const pf = await other.load(plain);
  assert.equal(pf.step, null);
  assert.equal(pf.metadata.note, 'x');

  await assert.rejects(other.load(path.join(root, 'nope')), /checkpoint .*nope does not exist/);
  const empty = path.join(root, 'empty-dir');
  fs.mkdirSync(empty);
  await assert.rejects(other.load(empty), /no checkpoints \(ckpt_\*\.safetensors\) in .*empty-dir/);
});

test('atomic writes: no temp files left, a crashed temp file is ignored and cleaned, failures keep the old file', async () => {
  const dir = freshDir();
  const mgr = new CheckpointManager(dir, { keep: 3 });
  await mgr.save(1, tensorsFor(1), {});
  await mgr.save(2, tensorsFor(2), {});
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), []);

  // Simulate a writer that crashed mid-save of step 3: only a partial temp file exists, the final name does not.
  const full = fs.readFileSync(path.join(dir, checkpointFileName(2)));
  const crashed = path.join(dir, `.${checkpointFileName(3)}.tmp-999999-deadbeef`);
  fs.writeFileSync(crashed, full.subarray(0, full.length >> 1));
  assert.deepEqual((await mgr.list()).map((c) => c.step), [1, 2]);
  assert.equal((await mgr.loadLatest())?.step, 2);
  await mgr.save(4, tensorsFor(4), {});
  assert.equal(fs.existsSync(crashed), false, 'the next save removes crash leftovers');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['ckpt_000001.safetensors', 'ckpt_000002.safetensors', 'ckpt_000004.safetensors']);

  // A write that fails midway (second chunk is not a buffer) leaves the previous file intact and no temp file.
  const target = path.join(dir, checkpointFileName(4));
  const before = fs.readFileSync(target);
  await assert.rejects(writeFileAtomic(target, [new Uint8Array(64).fill(1), { byteLength: 10 } as unknown as Uint8Array]));
  assert.deepEqual(fs.readFileSync(target), before);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), []);
  assert.equal((await readSafetensors(target, { requireChecksum: true })).metadata.step, '4');

  // Same for a fresh name: nothing appears under it.
  const fresh = path.join(dir, 'never.safetensors');
  await assert.rejects(writeFileAtomic(fresh, [new Uint8Array(8), null as unknown as Uint8Array]));
  assert.equal(fs.existsSync(fresh), false);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), []);
});
