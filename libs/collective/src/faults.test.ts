// Fault tests, every rank its own process: a peer SIGKILLed mid-all-reduce, and a peer SIGSTOPped mid-all-reduce.
// Every surviving rank's op must reject (no hang) with UNAVAILABLE / DEADLINE_EXCEEDED naming the faulty peer, and
// the stall inspector must log the stopped rank. The kill runs with chunks on each path (the data link over loopback
// TCP and on a Unix socket, and gRPC Pull streams: a dead peer shows as a closed socket or a cancelled HTTP/2
// stream); the stop over loopback TCP and gRPC (a stopped peer's sockets stay open on either data-link flavour).
// Hard timeouts; every child is SIGKILLed by PID in `after`.
// Run: node tools/run-tests.mjs libs/collective faults
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { spawnGroup, type Group } from './testing/harness';
import { dataLinksOpened, expectedVia, GRPC, listenOptions, TCP, UNIX } from './testing/transports';

const groups: Group[] = [];
after(() => groups.forEach((g) => g.kill()));

// Large enough that a kill lands mid-op with many chunks in flight; short deadlines keep the test quick.
const LOOP = { kind: 'loop', length: 2_000_000, iterations: 100_000 } as const;
const OPTS = { opTimeoutMs: 1500, stallWarnMs: 500, chunkBytes: 256 * 1024 };

for (const v of [TCP, UNIX, GRPC]) {
  test(`${v.name}: a peer killed mid-all-reduce makes every other rank reject, naming it`, { timeout: 40_000 }, async () => {
    const g = await spawnGroup(3, LOOP, { ...OPTS, ...listenOptions(v) });
    groups.push(g);
    g.ranks.forEach((r, i) => assert.equal(r.transport, v.transport, `rank ${i} runs transport ${r.transport}`));
    try {
      const victim = 1;
      await Promise.all(g.ranks.map((r) => r.waitFor((l) => l.type === 'op' && l.i >= 2, 20_000)));
      // (Logged at op 0, well before op 2's line.) The ops ran on the path under test.
      const via = expectedVia(v, v);
      g.ranks.forEach((r, i) => assert.deepEqual(dataLinksOpened(r), via === 'grpc' ? [] : [via], `rank ${i}'s data connections`));
      process.kill(g.ranks[victim].pid, 'SIGKILL');
      for (const [i, r] of g.ranks.entries()) {
        if (i === victim) continue;
        const e = await r.waitFor((l) => l.type === 'error', 15_000);
        assert.ok(['unavailable', 'deadline'].includes(e.code), `rank ${i}: code ${e.codeName}: ${e.message}`);
        assert.equal(e.peer?.rank, victim, `rank ${i} blames ${JSON.stringify(e.peer)}: ${e.message}`);
        assert.equal(e.peer?.address, g.ranks[victim].address);
        assert.match(e.message, new RegExp(`rank ${victim}`));
      }
    } finally {
      g.kill();
    }
  });
}

for (const v of [TCP, GRPC]) {
  test(`${v.name}: a SIGSTOPped peer makes every other rank reject with DEADLINE_EXCEEDED, and the stall inspector names it`, { timeout: 40_000 }, async () => {
    const g = await spawnGroup(3, LOOP, { ...OPTS, ...listenOptions(v) });
    groups.push(g);
    g.ranks.forEach((r, i) => assert.equal(r.transport, v.transport, `rank ${i} runs transport ${r.transport}`));
    const victim = 2;
    try {
      await Promise.all(g.ranks.map((r) => r.waitFor((l) => l.type === 'op' && l.i >= 2, 20_000)));
      process.kill(g.ranks[victim].pid, 'SIGSTOP');
      for (const [i, r] of g.ranks.entries()) {
        if (i === victim) continue;
        const e = await r.waitFor((l) => l.type === 'error', 15_000);
        assert.equal(e.code, 'deadline', `rank ${i}: ${e.codeName}: ${e.message}`);
        assert.equal(e.peer?.rank, victim, `rank ${i} blames ${JSON.stringify(e.peer)}: ${e.message}`);
        const stall = r.stderr.map((t) => JSON.parse(t)).find((l) => /^stall:/.test(l.msg ?? ''));
        assert.ok(stall, `rank ${i} logged no stall warning: ${r.stderr.join('\n').slice(-800)}`);
        assert.ok(stall.unresponsive.some((p: { rank: number }) => p.rank === victim), `stall warning does not name rank ${victim}: ${JSON.stringify(stall)}`);
      }
    } finally {
      try {
        process.kill(g.ranks[victim].pid, 'SIGCONT');
      } catch {
        /* gone */
      }
      g.kill();
    }
  });
}
