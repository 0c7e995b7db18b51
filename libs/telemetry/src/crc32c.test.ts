// Tests for crc32c/maskCrc against published vectors: RFC 3720 (iSCSI) appendix B.4, the CRC catalogue's check
// value, and a TFRecord masked CRC computed by another TFRecord implementation.
// Run: node --import tsx --test libs/telemetry/src/crc32c.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from './crc32c';

test('CRC-32C matches the published vectors', () => {
  const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283); // the CRC catalogue's check value
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43); // … of ones
  assert.equal(crc32c(ascending), 0x46dd794e); // … incrementing
  assert.equal(crc32c(Buffer.from(ascending).reverse()), 0x113fdb5c); // … decrementing
  assert.equal(crc32c(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x22620404);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('a CRC continues over more bytes', () => {
  const all = Buffer.from('123456789');
  assert.equal(crc32c(all.subarray(4), crc32c(all.subarray(0, 4))), crc32c(all));
});

test("TFRecord's mask: the formula, a vector from another TFRecord implementation, and its inverse", () => {
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.equal(maskCrc(0x00008000), (1 + 0xa282ead8) >>> 0); // bit 15 rotates to bit 0
  assert.equal(maskedCrc32c(Buffer.from('1234567890asdfghjkl')), 4134599430);
  for (const c of [0, 1, 0xe3069283, 0xffffffff, 0x8a9136aa]) assert.equal(unmaskCrc(maskCrc(c)), c);
});
