// Multi-process correctness: N = 1..8 workers, each its own process on 127.0.0.1, run all-reduce (sum/mean,
// fp32/fp16/bf16), broadcast, all-gather and barrier on random data over many lengths (0, 1, < N, not divisible by
// N, many chunks). Checks every rank ends bit-identical and within the float32 (or 16-bit) error bound of a float64
// reference. Runs for every way chunks travel (testing/transports.ts): the data link (transport tcp) on a Unix
// socket and over loopback TCP, N = 1..8 between them, and gRPC Pull streams for a subset of N (to keep the suite
// quick on 2 cores); and one ring that mixes all three. Each rank's log must show its data went the way its options
// say. Run: node tools/run-tests.mjs libs/collective allreduce
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { spawnGroup, type Group } from './testing/harness';
import { dataLinksOpened, expectedVia, GRPC, listenOptions, TCP, UNIX, type Variant } from './testing/transports';
import type { SuiteCase } from './testing/worker';

const groups: Group[] = [];
after(() => groups.forEach((g) => g.kill()));

function casesFor(n: number): SuiteCase[] {
  const lengths = [0, 1, 2, n - 1, n + 1, 3 * n + 1, 257, 1000 + n, 4099];
  const cases: SuiteCase[] = [];
  let seed = n * 100;
  for (const [j, length] of [...new Set(lengths)].entries()) {
    cases.push({ op: 'allReduce', length, reduce: j % 2 ? 'mean' : 'sum', wire: 'fp32', seed: seed++ });
  }
  cases.push({ op: 'allReduce', length: 3001, reduce: 'mean', wire: 'fp16', seed: seed++ });
  cases.push({ op: 'allReduce', length: 3001, reduce: 'sum', wire: 'bf16', seed: seed++ });
  cases.push({ op: 'broadcast', length: 2500, root: n - 1, seed: seed++ });
  cases.push({ op: 'broadcast', length: 0, root: 0, seed: seed++ });
  // Regression: a root that reaches the op after its successor already pulls must still send (it once ended early).
  cases.push({ op: 'broadcast', length: 11, root: 0, seed: seed++, rootDelayMs: 200 });
  cases.push({ op: 'allGather', length: 3, seed: seed++ });
  cases.push({ op: 'barrier' });
  cases.push({ op: 'allReduce', length: 20_000, reduce: 'sum', wire: 'fp32', seed: seed++ });
  return cases;
}

/** Spawn n ranks (transport per rank), run the suite, and check every case on every rank. */
/** Spawn n ranks (rank r configured as variants[r]), run the suite, and check every case on every rank. */
async function runSuite(variants: Variant[]): Promise<void> {
  const n = variants.length;
  const cases = casesFor(n);
  // 1 KiB chunks so even these small buffers are split into many pipelined chunks per segment.
  const g = await spawnGroup(n, { kind: 'suite', cases }, (r) => ({ chunkBytes: 1024, opTimeoutMs: 10_000, ...listenOptions(variants[r]) }));
  groups.push(g);
  try {
    g.ranks.forEach((r, i) => assert.equal(r.transport, variants[i].transport, `rank ${i} runs transport ${r.transport}`));
    const done = await Promise.all(g.ranks.map((r) => r.waitFor((l) => l.type === 'done' || l.type === 'fatal', 50_000)));
    done.forEach((d, r) => assert.equal(d.type, 'done', `rank ${r}: ${JSON.stringify(d)}`));
    for (const [i, k] of cases.entries()) {
      const res = g.ranks.map((r) => r.lines.find((l) => l.type === 'case' && l.i === i));
      res.forEach((x, r) => assert.ok(x && !x.error, `case ${i} ${JSON.stringify(k)} rank ${r}: ${JSON.stringify(x)}`));
      const h0 = res[0].hash;
      res.forEach((x, r) => assert.equal(x.hash, h0, `case ${i} ${JSON.stringify(k)}: rank ${r} differs from rank 0`));
      if (k.op === 'allReduce') res.forEach((x) => assert.ok(x.maxRatio <= 1, `case ${i} ${JSON.stringify(k)}: error ${x.maxRelErr} beyond bound (ratio ${x.maxRatio})`));
      if (k.op === 'broadcast') assert.equal(h0, res[0].expect, `case ${i}: broadcast result is not root's data`);
      if (k.op === 'allGather') res.forEach((x) => assert.ok(x.ok, `case ${i}: all-gather parts wrong`));
    }
    // The chunks went the way the options say: one data connection per rank for the whole suite (ops of a
    // generation share it), of the expected kind; none for a rank that pulls over gRPC (or a group of one).
    g.ranks.forEach((r, i) => {
      const via = expectedVia(variants[i], variants[(i + n - 1) % n]);
      const want = n === 1 || via === 'grpc' ? [] : [via];
      assert.deepEqual(dataLinksOpened(r), want, `rank ${i} (${variants[i].name}) opened the wrong data connections`);
    });
  } finally {
    g.kill();
  }
}

// N = 1 opens no stream at all, so it runs once.
for (let n = 1; n <= 8; n++) {
  const v = n % 2 ? UNIX : TCP;
  test(`ring collectives across ${n} process(es), ${v.name}`, { timeout: 60_000 }, () => runSuite(Array(n).fill(v)));
}
for (const n of [2, 3, 5, 8]) {
  test(`ring collectives across ${n} processes, ${GRPC.name}`, { timeout: 60_000 }, () => runSuite(Array(n).fill(GRPC)));
}

// Rank r pulls from rank r-1: 0<-5 over a Unix socket; 1<-0 over TCP (rank 1 uses none); 2<-1 over TCP (rank 1
// serves no Unix socket); 3<-2 and 4<-3 over gRPC, from a tcp rank and a grpc rank; 5<-4 over a Unix socket from a
// grpc rank (every rank serves the data channel, whatever its own transport).
const MIXED = [UNIX, TCP, UNIX, GRPC, GRPC, UNIX];
test(`ring collectives across 6 processes with mixed transports: ${MIXED.map((v) => v.name).join(', ')}`, { timeout: 60_000 }, () => runSuite(MIXED));
