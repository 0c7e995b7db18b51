// Test worker: one rank in its own process. Prints {"type":"listening","address","data"} on stdout, reads one JSON
// line {"rank","worldSize","peers","data","generation","scenario"} from stdin, runs the scenario and prints one JSON line per
// result; logs (pino-like JSON) go to stderr. Used by the multi-process tests and the bench.
// Run by hand: node --import tsx libs/collective/src/testing/worker.ts '{"jobId":"j"}'
import { createHash } from 'node:crypto';
import readline from 'node:readline';
import { Collective, CollectiveError, type ListenOptions, type WireFormat } from '../index';
import { makeRankData, referenceReduce } from './data';

export type Scenario =
  | { kind: 'suite'; cases: SuiteCase[] }
  | { kind: 'loop'; length: number; iterations: number; wire?: WireFormat }
  | { kind: 'bench'; length: number; warmup: number; iterations: number; wire: WireFormat };

export type SuiteCase =
  | { op: 'allReduce'; length: number; reduce: 'sum' | 'mean'; wire: WireFormat; seed: number }
  | { op: 'broadcast'; length: number; root: number; seed: number; /** root starts late: successors pull first */ rootDelayMs?: number }
  | { op: 'allGather'; length: number; seed: number }
  | { op: 'barrier' };

const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
/** How long a 'loop' rank stays up after its op failed (the test kills it sooner). */
const LINGER_AFTER_ERROR_MS = 10_000;
const jsonLog = (level: string) => (obj: unknown, msg?: string) =>
  process.stderr.write(JSON.stringify({ level, ...(typeof obj === 'object' ? obj : { msg: obj }), ...(msg ? { msg } : {}) }) + '\n');
const logger = { info: jsonLog('info'), warn: jsonLog('warn'), error: jsonLog('error'), debug: () => {} };

const hash = (a: Float32Array) => createHash('sha1').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

function errInfo(e: unknown) {
  if (e instanceof CollectiveError) return { code: e.code, codeName: e.codeName, peer: e.peer, message: e.message };
  return { code: -1, message: String((e as Error)?.stack ?? e) };
}

async function main() {
  const opts = JSON.parse(process.argv[2] ?? '{}') as Partial<ListenOptions>;
  const c = await Collective.listen({ jobId: 'test-job', ...opts, logger });
  out({ type: 'listening', address: c.address, data: c.dataEndpoint, pid: process.pid, transport: c.transport });
  const rl = readline.createInterface({ input: process.stdin });
  const first = await new Promise<string>((res) => rl.once('line', res));
  const g = JSON.parse(first);
  c.setGroup({ rank: g.rank, worldSize: g.worldSize, peers: g.peers, data: g.data, generation: g.generation });
  const s = g.scenario as Scenario;
  const { rank, worldSize: n } = g;
  if (s.kind === 'suite') {
    for (const [i, k] of s.cases.entries()) {
      try {
        if (k.op === 'allReduce') {
          const buf = makeRankData(k.seed, rank, k.length);
          await c.allReduce(buf, { op: k.reduce, wire: k.wire });
          const { ref, absSum } = referenceReduce(k.seed, n, k.length, k.reduce);
          let maxErr = 0;
          let maxRatio = 0;
          // Error bound of a float32 ring sum (n-1 roundings of partial sums, plus the mean's division),
          // or of the 16-bit wire (each hop rounds a partial sum, and the result is rounded once more).
          const u = k.wire === 'fp32' ? 2 ** -24 : k.wire === 'fp16' ? 2 ** -11 : 2 ** -8;
          for (let j = 0; j < k.length; j++) {
            const err = Math.abs(buf[j] - ref[j]);
            const bound = (n + 1) * u * absSum[j] + 1e-30;
            maxErr = Math.max(maxErr, err / Math.max(absSum[j], 1e-30));
            maxRatio = Math.max(maxRatio, err / bound);
          }
          out({ type: 'case', i, hash: hash(buf), maxRelErr: maxErr, maxRatio });
        } else if (k.op === 'broadcast') {
          const buf = makeRankData(k.seed, rank, k.length);
          if (k.rootDelayMs && rank === k.root) await new Promise((r) => setTimeout(r, k.rootDelayMs));
          await c.broadcast(buf, k.root);
          out({ type: 'case', i, hash: hash(buf), expect: hash(makeRankData(k.seed, k.root, k.length)) });
        } else if (k.op === 'allGather') {
          const parts = await c.allGather(makeRankData(k.seed, rank, k.length));
          const ok = parts.length === n && parts.every((p, r) => hash(p) === hash(makeRankData(k.seed, r, k.length)));
          out({ type: 'case', i, hash: createHash('sha1').update(parts.map(hash).join()).digest('hex'), ok });
        } else {
          await c.barrier();
          out({ type: 'case', i, hash: 'barrier' });
        }
      } catch (e) {
        out({ type: 'case', i, error: errInfo(e) });
      }
    }
  } else if (s.kind === 'loop') {
    // Repeated all-reduces until one fails; the fault tests kill or stop a peer meanwhile.
    const buf = makeRankData(1, rank, s.length);
    for (let i = 0; i < s.iterations; i++) {
      const t0 = Date.now();
      try {
        await c.allReduce(buf, { op: 'mean', wire: s.wire });
        out({ type: 'op', i });
      } catch (e) {
        out({ type: 'error', i, ms: Date.now() - t0, ...errInfo(e) });
        // Up a while longer, as a trainer's worker stays up after a failed op to await the coordinator: a rank that
        // left at once would look dead itself to a neighbour still asking it for the next op.
        await new Promise((r) => setTimeout(r, LINGER_AFTER_ERROR_MS));
        break;
      }
    }
  } else if (s.kind === 'bench') {
    const buf = makeRankData(7, rank, s.length);
    const times: number[] = [];
    for (let i = 0; i < s.warmup + s.iterations; i++) {
      await c.barrier();
      const t0 = performance.now();
      await c.allReduce(buf, { op: 'sum', wire: s.wire });
      if (i >= s.warmup) times.push(performance.now() - t0);
    }
    out({ type: 'bench', times });
  }
  out({ type: 'done' });
  await c.close();
  process.exit(0);
}

main().catch((e) => {
  out({ type: 'fatal', ...errInfo(e) });
  process.exit(1);
});
