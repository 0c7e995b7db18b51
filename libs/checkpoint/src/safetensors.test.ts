// Tests for the safetensors writer/reader: round trips, the exact byte layout, and every kind of corrupt file.
// Run: node tools/run-tests.mjs libs/checkpoint safetensors
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CheckpointError, readSafetensors, writeSafetensors, type NamedTensor } from './index';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-safetensors-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const file = (): string => path.join(tmp, `t${counter++}.safetensors`);

/** Asserts a CheckpointError whose one-line message names the file and matches `pattern`. */
async function rejects(p: string, pattern: RegExp, opts?: Parameters<typeof readSafetensors>[1]): Promise<void> {
  await assert.rejects(readSafetensors(p, opts), (e: unknown) => {
    assert.ok(e instanceof CheckpointError, String(e));
    assert.ok(e.message.startsWith(`checkpoint ${p} `), e.message);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, pattern);
    return true;
  });
}

/** A safetensors file assembled by hand from a header object and raw data (no checksum unless given). */
function rawFile(header: unknown, data: Uint8Array, pad = true): string {
  let json = Buffer.from(JSON.stringify(header));
  if (pad && json.length % 8) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const p = file();
  fs.writeFileSync(p, Buffer.concat([len, json, data]));
  return p;
}

test('round trip: every dtype, empty and scalar tensors, special values, metadata', async () => {
  const backing = new Float32Array([9, 1.5, -0, NaN, Infinity, 3.25e-20, 7]);
  const tensors: NamedTensor[] = [
    { name: 'f32', dtype: 'F32', shape: [5], data: backing.subarray(1, 6) }, // a view with a byteOffset
    { name: 'f64', dtype: 'F64', shape: [2, 2], data: new Float64Array([Math.PI, -1e300, 5e-324, -0]) },
    { name: 'i32', dtype: 'I32', shape: [3], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]) },
    { name: 'u8', dtype: 'U8', shape: [1, 3], data: new Uint8Array([0, 128, 255]) },
    { name: 'i64', dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    { name: 'empty', dtype: 'F32', shape: [0], data: new Float32Array(0) },
    { name: 'empty2d', dtype: 'F64', shape: [2, 0], data: new Float64Array(0) },
    { name: 'scalar', dtype: 'I32', shape: [], data: new Int32Array([42]) },
    { name: 'odd/name.with dots', dtype: 'U8', shape: [1], data: new Uint8Array([7]) },
  ];
  const p = file();
  const metadata = { format: 'gan-train/1', step: '100', config: JSON.stringify({ lr: 2e-4 }), unicode: 'ü→✓' };
  await writeSafetensors(p, tensors, metadata);
  const r = await readSafetensors(p, { requireChecksum: true });
  assert.deepEqual(Object.keys(r.metadata).sort(), [...Object.keys(metadata), 'sha256'].sort());
  for (const [k, v] of Object.entries(metadata)) assert.equal(r.metadata[k], v);
  assert.match(r.metadata.sha256, /^[0-9a-f]{64}$/);
  assert.equal(r.tensors.size, tensors.length);
  for (const t of tensors) {
    const got = r.tensors.get(t.name);
    assert.ok(got, t.name);
    assert.equal(got.dtype, t.dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.equal(got.data.constructor, t.data.constructor);
    // Compare bit patterns so NaN and -0 count.
    assert.deepEqual(
      Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength),
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      t.name,
    );
  }
  // 8-byte alignment of the data start, as the format requires.
  const buf = fs.readFileSync(p);
  assert.equal(Number(buf.readBigUInt64LE(0)) % 8, 0);
});

test('byte-for-byte equal to a hand-made reference layout of a 2-tensor file', async () => {
  const p = file();
  // Given in name order b, a: the writer puts the 4-byte dtype first, as the reference implementation does.
  await writeSafetensors(p, [
    { name: 'b', dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
    { name: 'a', dtype: 'F32', shape: [2], data: new Float32Array([1, -2]) },
  ], { k: 'v' });

  // 1.0f = 0x3f800000, -2.0f = 0xc0000000, little-endian; then the three bytes of b.
  const data = Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x01, 0x02, 0x03]);
  const sum = createHash('sha256').update(data).digest('hex');
  let json =
    `{"__metadata__":{"k":"v","sha256":"${sum}"},` +
    '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
    '"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';
  while (json.length % 8 !== 0) json += ' ';
  const n = json.length;
  const expected = Buffer.concat([
    Buffer.from([n & 0xff, (n >> 8) & 0xff, 0, 0, 0, 0, 0, 0]),
    Buffer.from(json, 'ascii'),
    data,
  ]);
  assert.deepEqual(fs.readFileSync(p), expected);
});

test('reads files from other writers: no checksum, any tensor order, unpadded header', async () => {
  const p = rawFile({
    second: { dtype: 'I32', shape: [1], data_offsets: [4, 8] },
    first: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
  }, Buffer.from([0, 0, 0x80, 0x3f, 5, 0, 0, 0]), false);
  const r = await readSafetensors(p);
  assert.deepEqual([...r.tensors.get('first')!.data], [1]);
  assert.deepEqual([...r.tensors.get('second')!.data], [5]);
  assert.deepEqual(r.metadata, {});
  await rejects(p, /has no 'sha256' metadata/, { requireChecksum: true });
});

test('truncated files are reported with sizes', async () => {
  const p = file();
  await writeSafetensors(p, [{ name: 'w', dtype: 'F32', shape: [1024], data: new Float32Array(1024).fill(1) }], {});
  const full = fs.readFileSync(p);
  const headerEnd = 8 + Number(full.readBigUInt64LE(0));

  const short = file();
  fs.writeFileSync(short, full.subarray(0, 5));
  await rejects(short, /^checkpoint \S+ is truncated: 5 bytes, too short/);

  const inHeader = file();
  fs.writeFileSync(inHeader, full.subarray(0, headerEnd - 3));
  await rejects(inHeader, /is truncated: header length is \d+ bytes, file has \d+ after the length field$/);

  const inData = file();
  fs.writeFileSync(inData, full.subarray(0, headerEnd + 1200));
  await rejects(inData, /is truncated: header says 4096 bytes of data, file has 1200$/);

  await rejects(path.join(tmp, 'missing.safetensors'), /does not exist$/);
});

test('a flipped byte in the data fails the checksum', async () => {
  const p = file();
  await writeSafetensors(p, [{ name: 'w', dtype: 'F64', shape: [4], data: new Float64Array([1, 2, 3, 4]) }], {});
  const buf = fs.readFileSync(p);
  buf[buf.length - 5] ^= 0x01;
  fs.writeFileSync(p, buf);
  await rejects(p, /is corrupt: data checksum mismatch/);
});

test('bad headers: invalid JSON, bad entries, offsets out of range, overlapping, gaps, trailing bytes', async () => {
  const good = await (async () => {
    const p = file();
    await writeSafetensors(p, [{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }], {});
    return fs.readFileSync(p);
  })();
  const broken = Buffer.from(good);
  broken[8] = 0x5b; // '[' where '{' was: still ASCII, no longer valid JSON for this content
  broken[9] = 0x7d;
  const bj = file();
  fs.writeFileSync(bj, broken);
  await rejects(bj, /has an invalid JSON header: /);

  const huge = Buffer.from(good);
  huge.writeBigUInt64LE(2n ** 63n, 0);
  const hj = file();
  fs.writeFileSync(hj, huge);
  await rejects(hj, /is truncated: header length is 9223372036854775808 bytes/);

  const d8 = new Uint8Array(8);
  await rejects(rawFile([1, 2], d8), /header that is not a JSON object/);
  await rejects(rawFile({ x: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, d8), /tensor 'x' with unsupported dtype "F16"/);
  await rejects(rawFile({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, d8), /tensor 'x' with invalid shape \[-2\]/);
  await rejects(rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, d8), /tensor 'x' with invalid data_offsets \[8,0\]/);
  await rejects(rawFile({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, d8), /tensor 'x' whose data_offsets \[0, 8\] span 8 bytes, but F32 \[3\] needs 12$/);
  await rejects(rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, d8), /is truncated: header says 12 bytes of data, file has 8$/);
  await rejects(rawFile({
    x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
  }, d8), /has overlapping tensors 'x' and 'y'$/);
  await rejects(rawFile({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, d8), /has a 4-byte gap in the data before tensor 'x'$/);
  await rejects(rawFile({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, d8), /has 4 unexpected bytes after the last tensor$/);
  await rejects(rawFile({ __metadata__: { n: 1 } }, new Uint8Array(0)), /has metadata 'n' that is not a string$/);
  await rejects(rawFile({ x: 5 }, new Uint8Array(0)), /header entry 'x' that is not an object$/);
});

test('the writer refuses inconsistent tensors and metadata, and leaves nothing behind', async () => {
  const p = file();
  const bad: [NamedTensor[], Record<string, string>, RegExp][] = [
    [[{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }], {}, /tensor 'x' has shape \[3\] \(3 values\) but 2 values/],
    [[{ name: 'x', dtype: 'F32', shape: [2], data: new Float64Array(2) }], {}, /tensor 'x' is F32 but its data is a Float64Array/],
    [[{ name: 'x', dtype: 'F16' as 'F32', shape: [2], data: new Float32Array(2) }], {}, /unsupported dtype "F16"/],
    [[{ name: 'x', dtype: 'U8', shape: [1], data: new Uint8Array(1) }, { name: 'x', dtype: 'U8', shape: [1], data: new Uint8Array(1) }], {}, /duplicate tensor name 'x'/],
    [[], { sha256: 'abc' }, /'sha256' is reserved/],
    [[], { n: 1 as unknown as string }, /metadata 'n' must be a string/],
  ];
  for (const [tensors, metadata, pattern] of bad) {
    await assert.rejects(writeSafetensors(p, tensors, metadata), pattern);
  }
  assert.equal(fs.existsSync(p), false);
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.tmp-')), []);
});
