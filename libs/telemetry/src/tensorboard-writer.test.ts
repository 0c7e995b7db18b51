// Tests for TensorBoardWriter, readEvents and readPngHeader: an events file named and framed as TensorFlow's, whose
// scalars and PNG images read back exactly; a second writer in the folder gets its own file; a flipped byte or a
// cut file is a one-line error naming the record.
// Run: node --import tsx --test libs/telemetry/src/tensorboard-writer.test.ts   (or node tools/run-tests.mjs libs/telemetry tensorboard)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { maskedCrc32c } from './crc32c';
import { writeImageGrid } from './image-grid';
import { readPngHeader } from './png-header';
import { writeScatterPlot } from './scatter-plot';
import { eventFilesIn, readEvents } from './tensorboard-reader';
import { EVENT_FILE_VERSION, TensorBoardWriter } from './tensorboard-writer';

const made: string[] = [];
const tmp = () => {
  made.push(fs.mkdtempSync(path.join(os.tmpdir(), 'gan-tb-')));
  return made[made.length - 1];
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const T0 = 1_700_000_000_250; // ms

/** A real 2-image grey grid PNG (as the trainer writes) and its expected size: 2·(5+2)+2 by 1·(4+2)+2. */
function gridPng(dir: string): { png: Buffer; width: number; height: number } {
  const file = path.join(dir, 'grid.png');
  writeImageGrid(file, new Float32Array(2 * 4 * 5).map((_, i) => Math.sin(i)), { n: 2, h: 4, w: 5, c: 1 }, { cols: 2 });
  return { png: fs.readFileSync(file), width: 16, height: 8 };
}

test('writes a TensorBoard events file whose scalars and image read back exactly', async () => {
  const dir = path.join(tmp(), 'run', 'tb');
  let clock = T0;
  const w = new TensorBoardWriter(dir, { now: () => clock, hostname: 'host-a' });
  assert.equal(w.file, path.join(dir, 'events.out.tfevents.1700000000.host-a'));
  w.scalars({ 'loss/d': 1.25, 'loss/g': 0.1, 'D(x)': NaN }, 1);
  clock += 1500;
  w.scalar('loss/d', -3.5e-7, 2);
  const { png, width, height } = gridPng(path.dirname(dir));
  assert.deepEqual(readPngHeader(png, 'grid.png'), { width, height, channels: 1 });
  w.image('samples/fake', png, height, width, 1, 2);
  await w.close();
  await w.close(); // idempotent
  assert.throws(() => w.scalar('x', 1, 3), /write after close/);

  assert.deepEqual(eventFilesIn(dir), [w.file]);
  const events = readEvents(w.file);
  assert.equal(events.length, 4);
  assert.equal(events[0].file_version, EVENT_FILE_VERSION);
  assert.equal(events[0].file_version, 'brain.Event:2');
  assert.equal(events[0].wall_time, T0 / 1000);
  assert.equal(events[0].summary, undefined);

  const scalars = events.slice(1, 3).flatMap((e) => e.summary!.value.map((v) => [e.step, v.tag, v.simple_value]));
  // simple_value is a float32: values come back rounded to float32.
  assert.deepEqual(scalars, [[1, 'loss/d', 1.25], [1, 'loss/g', Math.fround(0.1)], [1, 'D(x)', NaN], [2, 'loss/d', Math.fround(-3.5e-7)]]);
  assert.deepEqual(events.slice(1).map((e) => e.wall_time), [T0 / 1000, (T0 + 1500) / 1000, (T0 + 1500) / 1000]);

  const img = events[3];
  assert.equal(img.step, 2);
  assert.equal(img.summary!.value.length, 1);
  const v = img.summary!.value[0];
  assert.equal(v.tag, 'samples/fake');
  assert.equal(v.value, 'image');
  assert.deepEqual([v.image!.height, v.image!.width, v.image!.colorspace], [height, width, 1]);
  assert.ok(Buffer.from(v.image!.encoded_image_string).equals(png), 'the PNG bytes come back unchanged');
});

test('records are TFRecords: LE length, masked CRC-32C of the length, data, masked CRC-32C of the data', async () => {
  const dir = tmp();
  const w = new TensorBoardWriter(dir, { now: () => T0, hostname: 'h' });
  await w.close();
  const bytes = fs.readFileSync(w.file);
  const len = Number(bytes.readBigUInt64LE(0));
  assert.equal(bytes.length, 8 + 4 + len + 4, 'one record: the file_version event');
  assert.equal(bytes.readUInt32LE(8), maskedCrc32c(bytes.subarray(0, 8)));
  assert.equal(bytes.readUInt32LE(12 + len), maskedCrc32c(bytes.subarray(12, 12 + len)));
  assert.ok(bytes.subarray(12, 12 + len).includes(Buffer.from('brain.Event:2')));
});

test('a second writer in the same folder and second (a resumed run) gets its own file; neither is touched by the other', async () => {
  const dir = tmp();
  const a = new TensorBoardWriter(dir, { now: () => T0, hostname: 'h' });
  a.scalar('loss/d', 1, 1);
  await a.close();
  const before = fs.readFileSync(a.file);
  const b = new TensorBoardWriter(dir, { now: () => T0, hostname: 'h' });
  b.scalar('loss/d', 2, 2);
  await b.close();
  assert.equal(b.file, `${a.file}.2`);
  assert.deepEqual(fs.readFileSync(a.file), before);
  assert.deepEqual(eventFilesIn(dir), [a.file, b.file], 'name order is write order');
  assert.deepEqual(eventFilesIn(dir).map((f) => readEvents(f).map((e) => e.step)), [[0, 1], [0, 2]]);
});

test('a flipped byte or a cut file is a one-line error naming the file and the record', async () => {
  const dir = tmp();
  const w = new TensorBoardWriter(dir, { now: () => T0, hostname: 'h' });
  w.scalars({ 'loss/d': 1, 'loss/g': 2 }, 1);
  const { png, width, height } = gridPng(dir);
  w.image('samples/fake', png, height, width, 1, 1);
  await w.close();
  const good = fs.readFileSync(w.file);
  const starts: number[] = [];
  for (let at = 0; at < good.length; at += 16 + Number(good.readBigUInt64LE(at))) starts.push(at);
  assert.equal(starts.length, 3);

  const expectError = (bytes: Buffer, pattern: RegExp) => {
    const bad = path.join(dir, 'events.out.tfevents.bad');
    fs.writeFileSync(bad, bytes);
    assert.throws(() => readEvents(bad), (e: Error) => {
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith(bad) && !e.message.includes('\n'), e.message);
      return true;
    });
  };
  const flip = (at: number) => {
    const b = Buffer.from(good);
    b[at] ^= 0x10;
    return b;
  };
  expectError(flip(starts[2] + 12 + 100), new RegExp(`record 2 at byte ${starts[2]} is corrupt: the CRC-32C of its \\d+ data bytes does not match`));
  expectError(flip(starts[1] + 3), new RegExp(`record 1 at byte ${starts[1]} is corrupt: the CRC-32C of its length does not match`));
  expectError(flip(starts[1] + 9), /record 1 at byte \d+ is corrupt: the CRC-32C of its length/);
  expectError(flip(good.length - 1), /record 2 at byte \d+ is corrupt: the CRC-32C of its \d+ data bytes/);
  expectError(good.subarray(0, good.length - 5), new RegExp(`record 2 at byte ${starts[2]} is truncated: it holds \\d+ bytes of data, the file has \\d+ left`));
  expectError(good.subarray(0, starts[1] + 7), /record 1 at byte \d+ is truncated: 7 bytes left, a record header needs 12/);
  assert.equal(readEvents(w.file).length, 3, 'the original still reads');
});

test('bad arguments are one-line errors', async () => {
  const w = new TensorBoardWriter(tmp(), { hostname: 'h' });
  const png = gridPng(tmp()).png;
  assert.throws(() => w.scalar('', 1, 1), /tag must be a non-empty string/);
  assert.throws(() => w.scalar('a', 1, 1.5), /step must be a non-negative integer/);
  assert.throws(() => w.scalar('a', 1, -1), /step must be a non-negative integer/);
  assert.throws(() => w.scalars({ a: '1' as unknown as number }, 1), /'a' must be a number/);
  assert.throws(() => w.image('i', png, 8, 16, 5, 1), /channels must be 1, 2, 3 or 4/);
  assert.throws(() => w.image('i', png, 0, 16, 1, 1), /height must be a positive integer/);
  assert.throws(() => w.image('i', new Uint8Array(0), 8, 16, 1, 1), /needs the PNG's bytes/);
  await w.close();
  assert.equal(readEvents(w.file).length, 1, 'nothing was written by the refused calls');
  assert.throws(() => new TensorBoardWriter(''), /dir must be a non-empty string/);
});

test('readPngHeader: size and channels of grey and RGB PNGs; not a PNG is an error', () => {
  const dir = tmp();
  const file = path.join(dir, 'scatter.png');
  writeScatterPlot(file, new Float32Array([0, 0, 1, 1]), { size: 64 });
  assert.deepEqual(readPngHeader(fs.readFileSync(file)), { width: 64, height: 64, channels: 3 });
  assert.throws(() => readPngHeader(Buffer.from('GIF89a not a png at all...'), 'x.gif'), /x\.gif is not a PNG file/);
});
