// All-reduce time against emulated link rates: the product's ring all-reduce (@gan/collective's Collective, the
// one every `gan-train worker` all-reduces its gradients with, through bench/allreduce-worker.ts) between 2 and 3
// ranks, each in its own Linux network namespace ("host") on one bridge, every host's link limited by a token bucket
// (`tc … tbf rate R`, test/netns.ts; the kernel here has no netem), next to the ideal time: the bytes each rank must
// send over its own link, 2(n−1)/n × payload for a ring over n ranks, divided by the rate.
// Payload: the gradient of the default DCGAN (G + D parameters, counted from the product's own model, 15,472,964
// values), at 4 bytes a value for --wire fp32 and 2 for fp16/bf16. The trainer all-reduces D's and G's gradients
// as two ops per step; here they are one op of their summed size (one op's start-up less: a few ms).
//
// Run (root, iproute2): node --import tsx bench/link-scaling.ts [--rates 1gbit,10gbit] [--wires fp32,fp16,bf16]
//      [--workers 2,3] [--steps 5] [--warmup 1] [--json]        (npm run bench:link -- …)
//   --rates    tc rates (kbit|mbit|gbit), or `none` for an unlimited link (the veth's own speed: the CPU's)
//   --steps    timed all-reduces per case (the median is reported; each op's time is its slowest rank's)
//   --json     one JSON line per case instead of the markdown table
// Each rank runs as `ip netns exec <host> node bench/allreduce-worker.ts` (ip execs node in place: the PID we hold
// is the rank's), listens on its host's address only, with the run secret (GAN_TOKEN, as the product's workers
// run by default) and the data channel on TCP between hosts (an abstract Unix socket cannot leave its namespace).
// The bucket of each link holds 2 ms at its rate (256 KiB at 1 Gbit/s, as the multi-host tests): a smaller one
// keeps a fast link below its rate. "link/payload" is what each host's qdisc counted (Ethernet, IP and TCP headers,
// the gRPC barriers and the wire-error probe included) over the ring's payload bytes: ≈ 1.05 means the gradient
// bytes, and nothing else of note, crossed the limited links. Every process is killed by PID and every namespace
// removed at the end, on failure and on Ctrl-C too. Speed is reported, never asserted: see README "Scaling".
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RunSecret } from '@gan/auth';
import { initBackend } from '@gan/backend';
import { defaultsFor } from '@gan/config';
import { buildGan, disposeGan, paramCount } from '@gan/model';
import { modelConfigOf } from '@gan/training';
// The multi-host tests' emulated network, reused as is: the same namespaces, bridge and tbf links.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { createNetwork, netnsUnavailable, sentBytes, sweepStale, type EmulatedNetwork } from '../test/netns';
import { readOptions } from './bench-options';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(HERE, 'allreduce-worker.ts');
const WIRES = ['fp32', 'fp16', 'bf16'] as const;
type Wire = (typeof WIRES)[number];
const BYTES_PER_VALUE: Record<Wire, number> = { fp32: 4, fp16: 2, bf16: 2 };
/** Elements of the wire-error probe allreduce-worker runs after its timed ops (it crosses the links too). */
const PROBE_ELEMS = 1 << 20;
/** A case that has not finished by then (plus its ops' ideal time, 3 times over) is killed: a rank stuck on a link. */
const CASE_TIMEOUT_MS = 120_000;
/** allreduce-worker.ts gives each op 30 s (its opTimeoutMs): slower links would fail, not measure. */
const MAX_IDEAL_MS = 20_000;

interface Options {
  rates: string[];
  wires: Wire[];
  workers: number[];
  steps: number;
  warmup: number;
  json: boolean;
}

const FLAGS = ['rates', 'wires', 'workers', 'steps', 'warmup', 'json'];

function parseOptions(argv: string[]): Options {
  const { raw, int } = readOptions(argv, FLAGS, ['json']);
  const list = (k: string, d: string) => String(raw[k] ?? d).split(',').map((s) => s.trim()).filter(Boolean);
  const rates = list('rates', '1gbit,10gbit');
  for (const r of rates) rateBits(r);
  const wires = list('wires', WIRES.join(','));
  for (const w of wires) if (!(WIRES as readonly string[]).includes(w)) throw new Error(`--wires takes ${WIRES.join(', ')}, got ${w}`);
  const workers = list('workers', '2,3').map(Number);
  if (workers.some((n) => !Number.isInteger(n) || n < 2 || n > 8)) throw new Error(`--workers must be integers in [2, 8], got ${String(raw.workers)}`);
  return { rates, wires: wires as Wire[], workers, steps: int('steps', 5, 1), warmup: int('warmup', 1, 0), json: raw.json === true };
}

/** A tc rate in bits/s (`1gbit`, `2.5gbit`, `100mbit`, `500kbit`); Infinity for `none`. */
function rateBits(r: string): number {
  if (r === 'none') return Infinity;
  const m = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/i.exec(r);
  if (!m || Number(m[1]) <= 0) throw new Error(`bad rate '${r}': want a tc rate such as 1gbit, 2.5gbit, 100mbit, or none`);
  return Number(m[1]) * { kbit: 1e3, mbit: 1e6, gbit: 1e9 }[m[2].toLowerCase() as 'kbit' | 'mbit' | 'gbit'];
}

/** The default DCGAN's parameter counts, from the product's own model (what `gan-train train` builds with no flags). */
async function defaultParams(): Promise<{ g: number; d: number }> {
  await initBackend('cpu');
  const gan = buildGan(modelConfigOf(defaultsFor('dcgan')), 1);
  try {
    return { g: paramCount(gan.g), d: paramCount(gan.d) };
  } finally {
    disposeGan(gan);
  }
}

interface CaseResult {
  rate: string;
  workers: number;
  wire: Wire;
  /** bytes each rank sends over its link per all-reduce: 2(n−1)/n × elements × bytes per value */
  sendBytes: number;
  idealMs: number | null;
  ms: number;
  times: number[];
  /** idealMs / ms: the share of the link's rate the ring achieved */
  efficiency: number | null;
  /** bytes the hosts' qdiscs counted (mean over hosts) ÷ the ring's payload bytes for the same ops */
  linkOverPayload: number | null;
  cpuMsPerOp: { user: number; system: number };
}

const children = new Set<ChildProcess>();
let net: EmulatedNetwork | undefined;
function killChildren(): void {
  for (const p of children) if (p.exitCode === null && p.signalCode === null && p.pid) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  children.clear();
}
process.on('exit', () => {
  killChildren();
  net?.remove();
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

async function runCase(n: EmulatedNetwork, hostNames: string[], o: { rate: string; wire: Wire; elems: number; steps: number; warmup: number; secret: RunSecret }): Promise<CaseResult> {
  const hosts = hostNames.map((h) => n.hosts[h]);
  const size = hosts.length;
  const { GAN_TOKEN_FILE: _f, ...env } = process.env;
  env.GAN_TOKEN = o.secret.exportText();
  const procs = hosts.map((h) => {
    const cfg = { elems: o.elems, wire: o.wire, warmup: o.warmup, iters: o.steps, transport: 'tcp', unixSocket: false, security: 'auth', host: h.addr };
    const p = spawn('ip', ['netns', 'exec', h.ns, process.execPath, '--import', 'tsx', WORKER, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'], env, cwd: path.join(HERE, '..') });
    children.add(p);
    return p;
  });
  const lines = procs.map((p) => readline.createInterface({ input: p.stdout! })[Symbol.asyncIterator]());
  const share = (2 * (size - 1)) / size;
  const sendBytes = share * o.elems * BYTES_PER_VALUE[o.wire];
  const bits = rateBits(o.rate);
  const idealMs = Number.isFinite(bits) ? (sendBytes * 8 * 1000) / bits : null;
  const limitMs = CASE_TIMEOUT_MS + 3 * (o.warmup + o.steps + 1) * (idealMs ?? 0);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${o.rate} ${o.wire} n=${size}: not done after ${Math.round(limitMs / 1000)} s`)), limitMs)));
  const next = async (i: number) => {
    const r = await Promise.race([lines[i].next(), deadline]);
    if (r.done) throw new Error(`rank ${i} (${hosts[i].ns}) exited early`);
    return JSON.parse(r.value);
  };
  try {
    const addrs = await Promise.all(procs.map((_, i) => next(i)));
    for (const [i, a] of addrs.entries()) {
      if (a.security !== 'auth') throw new Error(`rank ${i} runs ${a.security}, not auth`);
      if (!String(a.address).startsWith(`${hosts[i].addr}:`)) throw new Error(`rank ${i} listens on ${a.address}, not on its host ${hosts[i].addr}`);
    }
    const sent0 = hosts.map(sentBytes);
    procs.forEach((p, i) => p.stdin!.write(JSON.stringify({ rank: i, worldSize: size, peers: addrs.map((a) => a.address), data: addrs.map((a) => a.data) }) + '\n'));
    const res = await Promise.all(procs.map((_, i) => next(i)));
    const sent = hosts.map((h, i) => sentBytes(h) - sent0[i]);
    // An op ends when its slowest rank ends: per op, the max over ranks.
    const times: number[] = res[0].times.map((_: number, k: number) => Math.max(...res.map((r) => r.times[k])));
    const ms = median(times);
    const payload = (o.warmup + o.steps) * sendBytes + share * Math.min(o.elems, PROBE_ELEMS) * BYTES_PER_VALUE[o.wire];
    const meanSent = sent.reduce((a, b) => a + b, 0) / size;
    const cpu = res.map((r) => r.cpuMsPerOp).reduce((a, c) => ({ user: a.user + c.user / size, system: a.system + c.system / size }), { user: 0, system: 0 });
    return {
      rate: o.rate, workers: size, wire: o.wire, sendBytes, idealMs, ms, times, efficiency: idealMs === null ? null : idealMs / ms,
      linkOverPayload: idealMs === null ? null : meanSent / payload, cpuMsPerOp: { user: +cpu.user.toFixed(1), system: +cpu.system.toFixed(1) },
    };
  } finally {
    clearTimeout(timer);
    killChildren();
  }
}

const fmt = (v: number | null, d: number) => (v === null ? '–' : v.toFixed(d));

async function main() {
  const o = parseOptions(process.argv.slice(2));
  const why = netnsUnavailable();
  if (why) throw new Error(`bench/link-scaling.ts needs network namespaces: ${why}`);
  sweepStale();
  const params = await defaultParams();
  const elems = params.g + params.d;
  const secret = RunSecret.generate();
  const maxN = Math.max(...o.workers);
  for (const r of o.rates) {
    const slowest = ((2 * (maxN - 1)) / maxN) * elems * Math.max(...o.wires.map((w) => BYTES_PER_VALUE[w])) * 8 * 1000 / rateBits(r);
    if (slowest > MAX_IDEAL_MS) throw new Error(`--rates ${r}: one all-reduce would take ${(slowest / 1000).toFixed(0)} s at best, past the ranks' 30 s op timeout; use a faster rate`);
  }
  const hostNames = Array.from({ length: maxN }, (_, i) => `h${i}`);
  if (!o.json) {
    console.log(`ring all-reduce of the default DCGAN's gradient (G ${params.g.toLocaleString('en')} + D ${params.d.toLocaleString('en')} = ${elems.toLocaleString('en')} values), `
      + `one network namespace per rank, tbf-limited links; median of ${o.steps} op(s) after ${o.warmup} warm-up; node ${process.version}`);
  }
  const results: CaseResult[] = [];
  for (const rate of o.rates) {
    const bits = rateBits(rate);
    // 2 ms of the rate, never below the multi-host tests' 256 KiB.
    const burst = Number.isFinite(bits) ? String(Math.max(262144, Math.round((bits / 8) * 0.002))) : undefined;
    net = createNetwork(hostNames, { rate: Number.isFinite(bits) ? rate : null, burst });
    try {
      for (const n of o.workers) {
        for (const wire of o.wires) {
          const r = await runCase(net, hostNames.slice(0, n), { rate, wire, elems, steps: o.steps, warmup: o.warmup, secret });
          results.push(r);
          if (o.json) {
            console.log(JSON.stringify({ ...r, elems, ms: +r.ms.toFixed(1), idealMs: r.idealMs === null ? null : +r.idealMs.toFixed(1), times: r.times.map((t) => +t.toFixed(1)),
              efficiency: r.efficiency === null ? null : +r.efficiency.toFixed(3), linkOverPayload: r.linkOverPayload === null ? null : +r.linkOverPayload.toFixed(3) }));
          } else {
            process.stderr.write(`  ${rate} n=${n} ${wire}: ${r.ms.toFixed(1)} ms (ideal ${fmt(r.idealMs, 1)})\n`);
          }
        }
      }
    } finally {
      killChildren();
      net.remove();
      net = undefined;
    }
  }
  if (o.json) return;
  console.log('\n| link | workers | wire | sent per rank, MB | ideal ms | measured ms | ideal / measured | link / payload bytes | CPU ms per op and rank (user+sys) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.rate} | ${r.workers} | ${r.wire} | ${(r.sendBytes / 1e6).toFixed(1)} | ${fmt(r.idealMs, 1)} | ${r.ms.toFixed(1)} | ${fmt(r.efficiency, 2)} | ${fmt(r.linkOverPayload, 3)} | ${r.cpuMsPerOp.user}+${r.cpuMsPerOp.system} |`);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`link-scaling: ${(e as Error).message}`);
  process.exit(1);
});
