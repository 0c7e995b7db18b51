// Tests for the data lib's PRNG: fillU32 is nextU32 in blocks (the noise's ziggurat draws through it).
// Run: node tools/run-tests.mjs libs/data prng
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSeed, Rng } from './prng';

test('fillU32 gives the values nextU32 would, and the stream goes on where the block ended', () => {
  for (const seed of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, hashSeed(3, 9)]) {
    const one = new Rng(seed);
    const expected = Array.from({ length: 300 }, () => one.nextU32());
    const block = new Rng(seed);
    const out = new Uint32Array(260).fill(7);
    block.fillU32(out, 250);
    const got = [...out.subarray(0, 250)];
    for (let i = 250; i < 300; i++) got.push(block.nextU32());
    assert.deepEqual(got, expected, `seed ${seed}`);
    assert.ok(out.subarray(250).every((v) => v === 7), 'fillU32 wrote past count');
    assert.deepEqual([...new Rng(seed).fillU32(new Uint32Array(5))], expected.slice(0, 5));
  }
});
