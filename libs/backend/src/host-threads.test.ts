// The host thread pool: a call split over several threads computes every element once, in the right chunk, through
// the right kernel's instance; a trap on a worker is one error naming the elements, and the pool keeps working.
// Run: node --import tsx --test libs/backend/src/host-threads.test.ts
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import wabtInit from 'wabt';
import { createHostKernel, hostThreads, MIN_HOST_CHUNK, setHostThreads } from './host-threads';

// fill(at, lo, count, x) writes x + i at float32 index i for i in [lo, lo + count) of the array at byte offset `at`
// and returns count; trapAbove(limit, lo, count) traps when the chunk starts at or above `limit`, else returns lo.
const WAT = `(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "fill") (param $at i32) (param $lo i32) (param $count i32) (param $x f64) (result i32)
    (local $i i32)
    (local.set $i (local.get $lo))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.add (local.get $lo) (local.get $count))))
        (f32.store (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2)))
          (f32.demote_f64 (f64.add (local.get $x) (f64.convert_i32_u (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $count))
  (func (export "trapAbove") (param $limit i32) (param $lo i32) (param $count i32) (result i32)
    (if (i32.ge_u (local.get $lo) (local.get $limit)) (then unreachable))
    (local.get $lo)))`;

async function testModule(): Promise<WebAssembly.Module> {
  const wabt = await wabtInit();
  const features = { threads: true };
  const mod = wabt.parseWat('host-threads-test.wat', WAT, features);
  try {
    // wabt validates with its default features unless given them; its typings omit the parameter.
    (mod as unknown as { validate(f: object): void }).validate(features);
    return new WebAssembly.Module(Uint8Array.from(mod.toBinary({}).buffer));
  } finally {
    mod.destroy();
  }
}

after(() => setHostThreads(1));

test('a call over 4 threads fills every element through its own chunk, in order', async () => {
  const module = await testModule();
  setHostThreads(4);
  assert.equal(hostThreads(), 4);
  const n = 4 * MIN_HOST_CHUNK + 12;
  const pages = Math.ceil((2 * 4 * n) / 65536);
  const a = createHostKernel(module, ['fill', 'trapAbove'], pages);
  const b = createHostKernel(module, ['fill', 'trapAbove'], pages);
  // Two kernels, two calls each: every worker must route each call to the right kernel's memory.
  for (const [k, x] of [[a, 0.5], [b, 7], [a, 1.5], [b, 9]] as const) {
    const chunks = k.run('fill', n, 4, (lo, count) => [4 * n, lo, count, x]);
    assert.equal(chunks.length, 4);
    assert.deepEqual(chunks.map((c) => c.result), chunks.map((c) => c.count));
    assert.equal(chunks[0].lo, 0);
    for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i].lo, chunks[i - 1].lo + chunks[i - 1].count);
    assert.equal(chunks.at(-1)!.lo + chunks.at(-1)!.count, n);
    assert.ok(chunks.every((c) => c.lo % 4 === 0 && c.count > 0));
  }
  for (const [k, x] of [[a, 1.5], [b, 9]] as const) {
    const out = new Float32Array(k.memory.buffer, 4 * n, n);
    const wrong = out.findIndex((v, i) => v !== Math.fround(x + i));
    assert.equal(wrong, -1, `element ${wrong}: ${out[wrong]}`);
  }
});

test('one thread, or too few elements to split, runs as one chunk on the caller', async () => {
  const module = await testModule();
  setHostThreads(3);
  const k = createHostKernel(module, ['fill', 'trapAbove'], 1);
  assert.deepEqual(k.run('fill', 100, 4, (lo, count) => [0, lo, count, 2]), [{ lo: 0, count: 100, result: 100 }]);
  setHostThreads(1);
  const n = 3 * MIN_HOST_CHUNK;
  const big = createHostKernel(module, ['fill', 'trapAbove'], Math.ceil((4 * n) / 65536));
  assert.equal(big.run('fill', n, 4, (lo, count) => [0, lo, count, 2]).length, 1);
  assert.equal(new Float32Array(big.memory.buffer)[n - 1], n + 1);
});

test('a trap on a worker is one error naming its elements; the pool keeps working', async () => {
  const module = await testModule();
  setHostThreads(2);
  const n = 2 * MIN_HOST_CHUNK;
  const k = createHostKernel(module, ['fill', 'trapAbove'], Math.ceil((4 * n) / 65536));
  assert.throws(() => k.run('trapAbove', n, 4, (lo, count) => [1, lo, count]), new RegExp(`^Error: host kernel 'trapAbove' failed on elements \\[${MIN_HOST_CHUNK}, ${n}\\)$`));
  assert.throws(() => k.run('trapAbove', n, 4, (lo, count) => [0, lo, count]), /failed on elements \[0, \d+\): unreachable/);
  assert.deepEqual(k.run('trapAbove', n, 4, (lo, count) => [n, lo, count]).map((c) => c.result), [0, MIN_HOST_CHUNK]);
  assert.throws(() => k.run('fill', 10, 4, () => []), /n \(10\) must be a non-negative multiple of align \(4\)/);
  assert.throws(() => setHostThreads(0), /threads must be a positive integer, got 0/);
  assert.throws(() => createHostKernel(module, ['nope'], 1), /the module has no export 'nope'/);
});
