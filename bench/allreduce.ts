// All-reduce bench: raw TCP (ceiling), the gRPC ring all-reduce (2 and 3 processes; fp32 and a 16-bit wire) and
// PyTorch gloo (when /usr/bin/python3 can import torch), all in one run on this machine.
// Run: npm run bench:allreduce [-- --json] [--bytes 62000000] [--iters 10] [--warmup 3] [--reps 1]
//      [--wire16 fp16|bf16] [--chunk-bytes 1048576] [--no-gloo] [--no-tcp] [--n 2,3] [--no-malloc-tune]
//      [--transport tcp,grpc] (also: tcp-loopback) [--security insecure,auth,auth+tls]
// The ring runs once per transport: "tcp" (the default: chunks on the collective's data channel — an abstract Unix
// socket between processes of one machine — with gRPC for discovery and liveness), "tcp-loopback" (the same data
// channel forced onto loopback TCP, as between machines) and "grpc" (chunks on gRPC Pull streams).
// The ring's worker processes run with GLIBC_TUNABLES raising glibc's mmap/trim thresholds (MALLOC_TUNE below):
// grpc-js allocates a fresh buffer for every message it sends and receives, and without the tunables glibc hands
// each 1 MiB block back to the kernel on free, so every message pays ~256 page faults (measured here: 124 MB of
// 1 MiB allocate+copy takes 34-38 ms by default, 5 ms tuned). --no-malloc-tune measures the default.
// busbw = 2(n-1)/n * bytes / time (NCCL's bus bandwidth); the TCP line reports bytes / time per direction.
// Each ring case runs once per security mode (--security, default all three): "insecure" (no credentials),
// "auth" (a run secret: a token on every gRPC call, an HMAC challenge-response once per data connection) and
// "auth+tls" (the secret plus mutual TLS on both gRPC planes and on the data link). The parent generates one secret
// per run and hands it to the workers in their environment (GAN_TOKEN), never on a command line; for auth+tls it
// makes a throwaway CA and one certificate per rank with openssl in a private temp dir (removed on exit), and skips
// those lines, saying why, where openssl is missing. gloo and raw TCP have no security: their lines say insecure.
// --reps R repeats the whole set R times, interleaved, so a noisy machine affects every impl alike; each line is
// the median over its iterations. --json prints one JSON line per case.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RunSecret, haveOpenssl, makeTestCertificates, type TlsFiles } from '@gan/auth';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Run from source through tsx, or as an esbuild bundle (allreduce.mjs next to allreduce-worker.mjs and
// tcp-baseline.mjs) on a machine without node_modules.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.mjs';
const NODE_ARGS = EXT === '.ts' ? ['--import', 'tsx'] : [];
// grpc-js passes the IP address of a TLS target as the TLS server name, which Node flags (DEP0123) once per channel:
// silenced in the ring's workers where this Node can (--disable-warning: Node >= 20.11), so auth+tls lines stay legible.
const WORKER_ARGS = [...NODE_ARGS, ...(process.allowedNodeEnvironmentFlags.has('--disable-warning') ? ['--disable-warning=DEP0123'] : [])];
const argv = process.argv.slice(2);
const flag = (k: string) => argv.includes(`--${k}`);
const opt = (k: string, d: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : d;
};
const BYTES = Number(opt('bytes', '62000000'));
const ITERS = Number(opt('iters', '10'));
const WARMUP = Number(opt('warmup', '3'));
const REPS = Number(opt('reps', '1'));
const WIRE16 = opt('wire16', 'fp16');
const CHUNK = Number(opt('chunk-bytes', String(1 << 20)));
const NS = opt('n', '2,3').split(',').map(Number);
const TRANSPORTS = opt('transport', 'tcp,grpc').split(',');
for (const t of TRANSPORTS) if (!['tcp', 'tcp-loopback', 'grpc'].includes(t)) throw new Error(`--transport takes tcp, tcp-loopback and/or grpc, got ${t}`);
const SECURITY_MODES = ['insecure', 'auth', 'auth+tls'] as const;
type Security = (typeof SECURITY_MODES)[number];
const isSecurity = (s: string): s is Security => (SECURITY_MODES as readonly string[]).includes(s);
const SECURITY = opt('security', SECURITY_MODES.join(',')).split(',').filter((s, i, a) => a.indexOf(s) === i);
for (const s of SECURITY) if (!isSecurity(s)) throw new Error(`--security takes ${SECURITY_MODES.join(', ')} (comma-separated), got ${s}`);
const JSON_OUT = flag('json');
export const MALLOC_TUNE = 'glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=2147483647:glibc.malloc.top_pad=67108864';
const TUNE = !flag('no-malloc-tune');
if (!(BYTES > 0 && BYTES % 4 === 0)) throw new Error(`--bytes must be a positive multiple of 4, got ${BYTES}`);
if (WIRE16 !== 'fp16' && WIRE16 !== 'bf16') throw new Error(`--wire16 must be fp16 or bf16, got ${WIRE16}`);

interface Result {
  impl: 'grpc-ring' | 'gloo' | 'tcp';
  /** grpc-ring only: where its chunks travel */
  transport?: string;
  /** the ring's credentials; gloo and the raw TCP baseline have none ('insecure') */
  security: Security;
  n: number;
  wire: string;
  bytes: number;
  ms: number;
  busGBps: number;
  err?: object;
  mallocTune?: boolean;
  /** mean over ranks of one rank's CPU time per op, ms */
  cpuMsPerOp?: { user: number; system: number };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const busbw = (n: number, ms: number) => (n === 1 ? 0 : ((2 * (n - 1)) / n) * BYTES / (ms * 1e6));

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) try { process.kill(p.pid!, 'SIGKILL'); } catch { /* gone */ }
};
// The run's secret and, for auth+tls, a throwaway CA and one certificate per rank (made in main()).
let secret: RunSecret | undefined;
let certDir: string | undefined;
let certs: TlsFiles[] = [];
process.on('exit', () => {
  killAll();
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

/** A worker's environment: the malloc tunables, and the run secret for auth modes only (none inherited otherwise). */
function workerEnv(security: Security): NodeJS.ProcessEnv {
  const { GAN_TOKEN: _t, GAN_TOKEN_FILE: _f, ...env } = process.env;
  if (TUNE) env.GLIBC_TUNABLES = [process.env.GLIBC_TUNABLES, MALLOC_TUNE].filter(Boolean).join(':');
  if (security !== 'insecure') env.GAN_TOKEN = secret!.exportText();
  return env;
}

async function ring(n: number, wire: string, transport: string, security: Security): Promise<Result> {
  const worker = path.join(HERE, `allreduce-worker${EXT}`);
  const procs = Array.from({ length: n }, (_, i) => {
    // Certificate paths only (no key material) travel on the command line; the secret travels in the environment.
    const cfg = { elems: BYTES / 4, wire, warmup: WARMUP, iters: ITERS, chunkBytes: CHUNK, transport: transport === 'grpc' ? 'grpc' : 'tcp', unixSocket: transport === 'tcp', security, ...(security === 'auth+tls' ? { tls: certs[i] } : {}) };
    const p = spawn(process.execPath, [...WORKER_ARGS, worker, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'], env: workerEnv(security) });
    children.add(p);
    return p;
  });
  const lines = procs.map((p) => readline.createInterface({ input: p.stdout! })[Symbol.asyncIterator]());
  const next = async (i: number) => {
    const r = await Promise.race([lines[i].next(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`rank ${i} silent for 300 s`)), 300_000))]);
    if (r.done) throw new Error(`rank ${i} exited early`);
    return JSON.parse(r.value);
  };
  try {
    const addrs = await Promise.all(procs.map((_, i) => next(i)));
    // Each worker reports the credentials its Collective runs with: a mode that silently fell back would mislead.
    for (const [i, a] of addrs.entries()) if (a.security !== security) throw new Error(`rank ${i} runs ${a.security}, not ${security}`);
    procs.forEach((p, i) => p.stdin!.write(JSON.stringify({ rank: i, worldSize: n, peers: addrs.map((a) => a.address), data: addrs.map((a) => a.data) }) + '\n'));
    const res = await Promise.all(procs.map((_, i) => next(i)));
    // An op ends when its slowest rank ends: per iteration, the max over ranks.
    const times = res[0].times.map((_: number, k: number) => Math.max(...res.map((r) => r.times[k])));
    const ms = median(times);
    const cpu = res.map((r) => r.cpuMsPerOp).reduce((a, c) => ({ user: a.user + c.user / n, system: a.system + c.system / n }), { user: 0, system: 0 });
    return { impl: 'grpc-ring', transport, security, n, wire, bytes: BYTES, ms, busGBps: busbw(n, ms), cpuMsPerOp: { user: +cpu.user.toFixed(1), system: +cpu.system.toFixed(1) }, ...(wire !== 'fp32' ? { err: res[0].err } : {}), ...(TUNE ? {} : { mallocTune: false }) };
  } finally {
    killAll();
  }
}

function external(cmd: string, args: string[]): any {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error ?? r.stderr.slice(-1000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const hasTorch = !flag('no-gloo') && spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
if (!hasTorch && !flag('no-gloo')) process.stderr.write('gloo skipped: /usr/bin/python3 cannot import torch\n');

function print(r: Result, gloo?: number) {
  if (JSON_OUT) {
    console.log(JSON.stringify({ ...r, ms: +r.ms.toFixed(2), busGBps: +r.busGBps.toFixed(3), ...(gloo ? { vsGloo: +(r.busGBps / gloo).toFixed(3) } : {}) }));
    return;
  }
  const bw = r.impl === 'tcp' ? `${r.busGBps.toFixed(2)} GB/s per direction` : `busbw ${r.busGBps.toFixed(2)} GB/s`;
  const ratio = gloo && r.impl !== 'tcp' ? `  ${(r.busGBps / gloo).toFixed(2)}x gloo` : '';
  const err = r.err ? `  wire error vs fp32 mean: ${JSON.stringify(r.err)}` : '';
  const cpu = r.cpuMsPerOp ? `  cpu/rank ${r.cpuMsPerOp.user}+${r.cpuMsPerOp.system} ms` : '';
  const name = r.transport ? `ring/${r.transport}` : r.impl;
  console.log(`${name.padEnd(17)} ${r.security.padEnd(8)} n=${r.n} ${r.wire.padEnd(4)} ${(r.bytes / 1e6).toFixed(0)} MB  ${r.ms.toFixed(1).padStart(7)} ms  ${bw}${ratio}${cpu}${err}`);
}

async function main() {
  let modes = SECURITY as Security[];
  if (modes.some((s) => s !== 'insecure')) secret = RunSecret.generate();
  if (modes.includes('auth+tls')) {
    if (!haveOpenssl()) {
      process.stderr.write('auth+tls skipped: no openssl command to make the throwaway CA and certificates\n');
      modes = modes.filter((s) => s !== 'auth+tls');
    } else {
      certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-bench-tls-'));
      const names = Array.from({ length: Math.max(...NS) }, (_, i) => `rank${i}`);
      const byName = makeTestCertificates(certDir, names);
      certs = names.map((name) => byName[name]);
    }
  }
  if (!JSON_OUT) console.log(`all-reduce of ${BYTES} bytes fp32, median of ${ITERS} (after ${WARMUP} warm-up), ${REPS} rep(s); chunk ${CHUNK} B; malloc tunables ${TUNE ? 'on' : 'off'}; security ${modes.join(',') || 'none'}; node ${process.version}`);
  for (let rep = 0; rep < REPS; rep++) {
    const glooBw = new Map<number, number>();
    if (hasTorch) {
      for (const n of NS) {
        const g = external('/usr/bin/python3', [path.join(HERE, 'gloo_allreduce.py'), '--n', String(n), '--bytes', String(BYTES), '--iters', String(ITERS), '--warmup', String(WARMUP)]);
        const r: Result = { impl: 'gloo', security: 'insecure', n, wire: 'fp32', bytes: BYTES, ms: g.ms, busGBps: busbw(n, g.ms) };
        glooBw.set(n, r.busGBps);
        print(r);
      }
    }
    if (!flag('no-tcp')) {
      const t = external(process.execPath, [...NODE_ARGS, path.join(HERE, `tcp-baseline${EXT}`), '--bytes', String(BYTES), '--iters', String(ITERS), '--warmup', String(WARMUP)]);
      print({ impl: 'tcp', security: 'insecure', n: 2, wire: 'fp32', bytes: BYTES, ms: t.ms, busGBps: BYTES / (t.ms * 1e6) });
      // The same 62 MB each way is what a 2-rank all-reduce moves; as a bus bandwidth it is 2(n-1)/n = 1 times that.
    }
    for (const n of NS) {
      for (const transport of TRANSPORTS) {
        for (const security of modes) {
          for (const wire of ['fp32', WIRE16]) print(await ring(n, wire, transport, security), glooBw.get(n));
        }
      }
    }
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
