// Tests for the TensorBoard protos: the committed tensorboard-proto.generated.ts equals a fresh generation from
// protos/tensorboard/*.proto, and encodeEvent writes the bytes of TensorFlow's field numbers and wire types
// (worked out by hand below from the protobuf encoding rules and TensorFlow's event.proto / summary.proto).
// Run: node --import tsx --test libs/telemetry/src/tensorboard-proto.test.ts
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { decodeEvent, encodeEvent } from './tensorboard-event';
import { GENERATED, generateTensorBoardProto } from './tensorboard-proto.gen';

test('the committed tensorboard-proto.generated.ts equals a fresh generation', () => {
  assert.ok(
    fs.readFileSync(GENERATED, 'utf8') === generateTensorBoardProto(),
    'tensorboard-proto.generated.ts is stale: regenerate it with node --import tsx libs/telemetry/src/tensorboard-proto.gen.ts',
  );
});

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test("an Event's bytes carry TensorFlow's field numbers", () => {
  // Event.wall_time = 1 (fixed64: tag 09) 1.5 as a little-endian double; Event.step = 2 (varint: 10) 3;
  // Event.file_version = 3 (length-delimited: 1a) "brain.Event:2" (13 bytes).
  assert.deepEqual(
    Buffer.from(encodeEvent({ wall_time: 1.5, step: 3, file_version: 'brain.Event:2' })),
    Buffer.concat([hex('09 000000000000f83f 10 03 1a 0d'), Buffer.from('brain.Event:2')]),
  );
  // Event.summary = 5 (2a) { Summary.value = 1 (0a) { Value.tag = 1 (0a) "a", Value.simple_value = 2 (fixed32: 15) 2.0f } }
  const scalar = hex('09 000000000000f83f 10 03 2a 0a 0a 08 0a 01 61 15 00000040');
  assert.deepEqual(Buffer.from(encodeEvent({ wall_time: 1.5, step: 3, summary: { value: [{ tag: 'a', simple_value: 2 }] } })), scalar);
  // Value.image = 4 (22) { Image.height = 1 (08) 2, width = 2 (10) 3, colorspace = 3 (18) 1, encoded_image_string = 4 (22) ab }
  const image = hex('09 000000000000f83f 10 07 2a 10 0a 0e 0a 01 69 22 09 08 02 10 03 18 01 22 01 ab');
  const imageEvent = { wall_time: 1.5, step: 7, summary: { value: [{ tag: 'i', image: { height: 2, width: 3, colorspace: 1, encoded_image_string: hex('ab') } }] } };
  assert.deepEqual(Buffer.from(encodeEvent(imageEvent)), image);

  const s = decodeEvent(scalar);
  assert.equal(s.what, 'summary');
  assert.deepEqual([s.wall_time, s.step, s.summary!.value[0].tag, s.summary!.value[0].simple_value], [1.5, 3, 'a', 2]);
  const im = decodeEvent(image).summary!.value[0];
  assert.equal(im.value, 'image');
  assert.deepEqual([im.image!.height, im.image!.width, im.image!.colorspace, Buffer.from(im.image!.encoded_image_string)], [2, 3, 1, hex('ab')]);
});

test('bytes that are not an Event are an error', () => {
  assert.throws(() => decodeEvent(hex('2a 7f 00')), /index out of range|invalid/i);
});
