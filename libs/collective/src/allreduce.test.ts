// Multi-process correctness: N = 1..8 workers, each its own process on 127.0.0.1, run all-reduce (sum/mean,
// fp32/fp16/bf16), broadcast, all-gather and barrier on random data over many lengths (0, 1, < N, not divisible by
// N, many chunks). Checks every rank ends bit-identical and within the float32 (or 16-bit) error bound of a float64
// reference. Runs for both transports (chunks over the TCP data link, N = 1..8; over gRPC Pull streams, a subset of
// N to keep the suite quick on 2 cores) and for one ring that mixes them (every pull direction: tcp<-tcp,
// grpc<-tcp, grpc<-grpc, tcp<-grpc). Run: node tools/run-tests.mjs libs/collective allreduce
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Transport } from './collective';
import { spawnGroup, type Group, type PerRank } from './testing/harness';
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
async function runSuite(n: number, transport: PerRank<Transport>): Promise<void> {
  const cases = casesFor(n);
  const tOf = (r: number) => (typeof transport === 'function' ? transport(r) : transport);
  // 1 KiB chunks so even these small buffers are split into many pipelined chunks per segment.
  const g = await spawnGroup(n, { kind: 'suite', cases }, (r) => ({ chunkBytes: 1024, opTimeoutMs: 10_000, transport: tOf(r) }));
  groups.push(g);
  try {
    // The option reached every worker (it is not silently dropped on the way).
    g.ranks.forEach((r, i) => assert.equal(r.transport, tOf(i), `rank ${i} runs transport ${r.transport}`));
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
  } finally {
    g.kill();
  }
}

// N = 1 opens no stream at all, so it runs once (under tcp, the default).
const SIZES: Record<Transport, number[]> = { tcp: [1, 2, 3, 4, 5, 6, 7, 8], grpc: [2, 3, 5, 8] };
for (const transport of ['tcp', 'grpc'] as const) {
  for (const n of SIZES[transport]) {
    test(`ring collectives across ${n} process(es), transport ${transport}`, { timeout: 60_000 }, () => runSuite(n, transport));
  }
}

// Rank r pulls from rank r-1: 1<-0 and 0<-4 over tcp from tcp ranks, 2<-1 over grpc from a tcp rank, 3<-2 over grpc
// from a grpc rank, and 4<-3 over tcp from a grpc rank (which serves the data link though it does not pull over one).
const MIXED: Transport[] = ['tcp', 'tcp', 'grpc', 'grpc', 'tcp'];
test(`ring collectives across 5 processes with mixed transports ${MIXED.join(',')}`, { timeout: 60_000 }, () => runSuite(MIXED.length, (r) => MIXED[r]));
