/**
 * The single-process trainer as a user runs it: `gan-train train` in a real process. Bit-exact resume, the files a
 * run writes (TensorBoard's events in tb/ included), and one-line errors for bad input.
 * Run: node tools/run-tests.mjs test train-cli
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '@gan/checkpoint';
import { eventFilesIn, readEvents, readPngHeader } from '@gan/telemetry';
import { killAll, runCli, TINY_DCGAN, tmpDir } from './helpers';

after(killAll);
const T = { timeoutMs: 120_000 };

function latestCheckpoint(dir: string): string {
  const d = path.join(dir, 'checkpoints');
  const files = fs.readdirSync(d).filter((f) => f.endsWith('.safetensors')).sort();
  assert.ok(files.length > 0, `no checkpoint in ${d}`);
  return path.join(d, files[files.length - 1]);
}

async function tensorsOf(file: string): Promise<Map<string, Float32Array>> {
  const { tensors } = await readSafetensors(file);
  return new Map([...tensors].map(([k, v]) => [k, v.data as Float32Array]));
}

describe('gan-train train', () => {
  test('N steps + resume + N steps equals 2N steps straight, bit for bit', async () => {
    const dir = tmpDir('resume');
    const straight = path.join(dir, 'straight');
    const split = path.join(dir, 'split');
    const a = await runCli(['train', ...TINY_DCGAN, '--steps', '6', '--out', straight], T);
    assert.equal(a.code, 0, a.stderr);
    const b = await runCli(['train', ...TINY_DCGAN, '--steps', '3', '--out', split], T);
    assert.equal(b.code, 0, b.stderr);
    const c = await runCli(['train', ...TINY_DCGAN, '--steps', '6', '--out', split, '--resume', path.join(split, 'checkpoints')], T);
    assert.equal(c.code, 0, c.stderr);
    const x = await tensorsOf(latestCheckpoint(straight));
    const y = await tensorsOf(latestCheckpoint(split));
    assert.ok(latestCheckpoint(split).endsWith('ckpt_000006.safetensors'));
    assert.deepEqual([...x.keys()].sort(), [...y.keys()].sort());
    for (const [k, v] of x) assert.deepEqual(Buffer.from(y.get(k)!.buffer), Buffer.from(v.buffer), `tensor ${k} differs after resume`);
    // Training changed the weights (the comparison above is not between two untouched initialisations).
    const init = await runCli(['train', ...TINY_DCGAN, '--steps', '1', '--out', path.join(dir, 'one')], T);
    assert.equal(init.code, 0, init.stderr);
    const one = await tensorsOf(latestCheckpoint(path.join(dir, 'one')));
    assert.notDeepEqual(Buffer.from(one.get('g.fc.weight')?.buffer ?? new ArrayBuffer(0)), Buffer.from(x.get('g.fc.weight')?.buffer ?? new ArrayBuffer(1)));
  });

  test('writes sample grids, metrics.jsonl, TensorBoard events and checkpoints', async () => {
    const out = path.join(tmpDir('files'), 'run');
    const r = await runCli(['train', ...TINY_DCGAN, '--steps', '4', '--sample-every', '2', '--out', out], T);
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['real_samples.png', 'fake_samples_step_000002.png', 'fake_samples_step_000004.png', 'metrics.jsonl']) {
      assert.ok(fs.existsSync(path.join(out, f)), `${f} missing`);
    }
    const png = fs.readFileSync(path.join(out, 'fake_samples_step_000004.png'));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    const rows = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.step), [1, 2, 3, 4]);
    for (const row of rows) {
      for (const k of ['d_loss', 'g_loss', 'd_real', 'd_fake', 'step_ms']) assert.ok(Number.isFinite(row[k]), `${k} in ${JSON.stringify(row)}`);
      // One worker reading batches of 4: 4 samples per step.
      assert.ok(Math.abs(row.samples_per_s - 4000 / row.step_ms) <= 1e-9 * row.samples_per_s, `samples_per_s in ${JSON.stringify(row)}`);
    }
    // tb/: one events file (TensorBoard's format, read back with both CRCs checked) holding every logged row's
    // numbers as float32 scalars at its step, and each fake sample grid as an image.
    const files = eventFilesIn(path.join(out, 'tb'));
    assert.equal(files.length, 1, `one events file: ${files}`);
    assert.match(path.basename(files[0]), /^events\.out\.tfevents\.\d{10}\..+$/);
    const events = readEvents(files[0]);
    assert.equal(events[0].file_version, 'brain.Event:2');
    const values = events.flatMap((e) => (e.summary?.value ?? []).map((v) => ({ step: e.step, ...v })));
    const tags: Record<string, string> = { 'loss/d': 'd_loss', 'loss/g': 'g_loss', 'D(x)': 'd_real', 'D(G(z))': 'd_fake', 'time/step_ms': 'step_ms', world_size: 'world_size', 'throughput/samples_per_s': 'samples_per_s' };
    for (const [tag, field] of Object.entries(tags)) {
      const series = values.filter((v) => v.tag === tag);
      assert.deepEqual(series.map((v) => [v.step, v.simple_value]), rows.map((r) => [r.step, Math.fround(r[field])]), tag);
    }
    const images = values.filter((v) => v.tag === 'samples/fake');
    assert.deepEqual(images.map((v) => v.step), [2, 4]);
    const last = images[1].image!;
    assert.ok(Buffer.from(last.encoded_image_string).equals(png), 'the image is fake_samples_step_000004.png');
    // 64 samples of 32x32 in 8 columns with 2 px padding: 8·34 + 2 = 274 px square, grey.
    assert.deepEqual(readPngHeader(png), { width: 274, height: 274, channels: 1 });
    assert.deepEqual([last.width, last.height, last.colorspace], [274, 274, 1]);
    const { metadata } = await readSafetensors(latestCheckpoint(out));
    assert.equal(JSON.parse(metadata.config).ngf, 8);
    assert.equal(metadata.step, '4');
  });
});

describe('bad input is one clear line, never a stack trace', () => {
  const expectError = async (args: string[], pattern: RegExp) => {
    const r = await runCli(args, T);
    assert.equal(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('{'));
    assert.equal(lines.length, 1, `expected one error line, got:\n${r.stderr}`);
    assert.match(lines[0], /^gan-train: error: /);
    assert.match(lines[0], pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  };

  test('an image size the architecture cannot make', () => expectError(['train', '--image-size', '48'], /image-size/));
  test('an unknown backend', () => expectError(['train', '--backend', 'tpu'], /backend.*tpu/));
  test('an unknown flag', () => expectError(['train', '--lrr', '0.1'], /--lrr/));

  test('a truncated checkpoint and one of another architecture', async () => {
    const out = path.join(tmpDir('badckpt'), 'run');
    const r = await runCli(['train', ...TINY_DCGAN, '--steps', '1', '--out', out], T);
    assert.equal(r.code, 0, r.stderr);
    const ck = latestCheckpoint(out);
    await expectError(['train', ...TINY_DCGAN, '--ngf', '16', '--steps', '2', '--out', out, '--resume', ck], /architecture.*ngf/);
    const bytes = fs.readFileSync(ck);
    const cut = path.join(path.dirname(ck), 'cut.safetensors');
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectError(['train', ...TINY_DCGAN, '--steps', '2', '--out', out, '--resume', cut], /truncated|corrupt|checksum/i);
  });
});
