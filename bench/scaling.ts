// Training throughput against the number of workers: the product's real commands — `gan-train train` for 1
// worker, `gan-train local --workers N` (a coordinator and N worker processes, ring all-reduce between them) for N —
// next to PyTorch DistributedDataParallel on gloo (bench/ddp_train.py: the same model family, loss, Adam and
// per-worker batch) on the same cores, in one run.
//
// Run: node --import tsx bench/scaling.ts [--case small/64] [--workers 1,2] [--steps 20] [--warmup 3]
//      [--backend auto|wasm|cpu|…] [--json] [--no-torch]                 (npm run bench:scaling -- …)
//   --case     <preset>/<per-worker batch>, the presets of bench/product-step.ts (default = gan-train's defaults,
//              the document's 64×64×3 DCGAN; small = 32×32×1, ngf 64, ndf 32; mlp)
//   --steps    timed steps per run, after --warmup untimed ones (the median is reported)
//   --json     one JSON line per (side, workers) instead of the table
// Threads: each process gets ⌊cores ÷ workers⌋ (at least 1) on both sides: `--threads` for the product (what `local`
// picks by itself), torch.set_num_threads for PyTorch. The product's step time is metrics.jsonl's step_ms of rank 0
// (a whole step: data wait, both phases, both all-reduces, the BatchNorm broadcast, the hash check every
// --hash-every steps); PyTorch's is rank 0's time around its step. Neither counts logging between steps. Samples/s
// = workers × batch ÷ median step time. Sample images and checkpoints are off (--sample-every 0
// --checkpoint-every 0): DDP writes none. The product reads the generated `shapes` data (prefetched, as in every
// run); PyTorch one fixed random batch. Each run is a fresh process tree, killed by PID (its process group) on
// failure, timeout or Ctrl-C; run folders go to a temp dir that is removed at the end. Speed is reported, never
// asserted: see README "Scaling".
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_NAMES } from '@gan/backend';
import { PRESETS, parseCases, type BenchCase } from './product-step';
import { readOptions } from './bench-options';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const BIN = path.join(ROOT, 'bin', 'gan-train.mjs');
const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
/** A run that has not finished by then is killed (a hung worker must not hang the bench). */
const RUN_TIMEOUT_MS = 600_000;

interface Options {
  case: BenchCase;
  workers: number[];
  steps: number;
  warmup: number;
  backend: string;
  json: boolean;
  torch: boolean;
}

const FLAGS = ['case', 'workers', 'steps', 'warmup', 'backend', 'json', 'no-torch'];
const BOOLEAN = ['json', 'no-torch'];

function parseOptions(argv: string[]): Options {
  const { raw, int } = readOptions(argv, FLAGS, BOOLEAN);
  const cases = parseCases(String(raw.case ?? 'small/64'));
  if (cases.length !== 1) throw new Error('--case takes one <preset>/<batch>');
  const workers = String(raw.workers ?? '1,2').split(',').map(Number);
  if (workers.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new Error(`--workers must be integers in [1, 16], got ${String(raw.workers)}`);
  const backend = String(raw.backend ?? 'auto');
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) throw new Error(`--backend must be one of ${BACKEND_NAMES.join('|')}, got ${backend}`);
  return { case: cases[0], workers, steps: int('steps', 20, 1), warmup: int('warmup', 3, 1), backend, json: raw.json === true, torch: raw['no-torch'] !== true };
}

const CORES = os.availableParallelism();
const threadsFor = (workers: number) => Math.max(1, Math.floor(CORES / workers));
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The case's model as CLI flags: the preset's overrides of the run defaults, in kebab-case, and the batch. */
function modelFlags(c: BenchCase): string[] {
  const over: Record<string, string | number> = PRESETS[c.preset];
  const kebab = (k: string) => k.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`);
  return [...Object.entries(over).flatMap(([k, v]) => [`--${kebab(k)}`, String(v)]), '--batch-size', String(c.config.batchSize)];
}

const live = new Set<ChildProcess>();
let scratch: string | undefined;
function killGroup(p: ChildProcess): void {
  if (p.pid && p.exitCode === null && p.signalCode === null) try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
}
process.on('exit', () => {
  for (const p of live) killGroup(p);
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** Runs a command in its own process group; its stderr's tail on failure. SIGKILLed (the group) after the timeout. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-200_000)));
    const timer = setTimeout(() => killGroup(p), RUN_TIMEOUT_MS);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(p); // anything it left behind in its group
      live.delete(p);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} … ended with ${signal ?? `exit code ${code}`}: ${stderr.trim().split('\n').slice(-5).join('\n')}`));
    });
  });
}

interface Result {
  side: 'product' | 'ddp';
  workers: number;
  threads: number;
  batch: number;
  /** median step time, ms */
  ms: number;
  samplesPerS: number;
  times: number[];
  /** the product's backend (config.json), PyTorch's version */
  impl: string;
}

async function product(o: Options, workers: number): Promise<Result> {
  const out = path.join(scratch!, `product-${workers}`);
  const threads = threadsFor(workers);
  const common = [...modelFlags(o.case), '--steps', String(o.warmup + o.steps), '--log-every', '1', '--sample-every', '0', '--checkpoint-every', '0',
    '--threads', String(threads), '--backend', o.backend, '--log-format', 'json', '--out', out];
  const args = workers === 1 ? ['train', ...common] : ['local', '--workers', String(workers), '--http', 'off', ...common];
  await run(process.execPath, [BIN, ...args]);
  const rows = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const timed = rows.filter((r) => r.step > o.warmup);
  if (timed.length !== o.steps) throw new Error(`${out}/metrics.jsonl: ${timed.length} timed steps, expected ${o.steps}`);
  if (timed.some((r) => r.world_size !== workers)) throw new Error(`${out}/metrics.jsonl: world_size ${timed[0].world_size}, expected ${workers}`);
  const times = timed.map((r) => r.step_ms);
  const ms = median(times);
  const backend = String(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).backend);
  return { side: 'product', workers, threads, batch: o.case.config.batchSize, ms, samplesPerS: (workers * o.case.config.batchSize * 1000) / ms, times, impl: backend };
}

async function ddp(o: Options, workers: number): Promise<Result> {
  const threads = threadsFor(workers);
  const { stdout } = await run(PYTHON, [path.join(HERE, 'ddp_train.py'), '--model', JSON.stringify(o.case.model), '--batch', String(o.case.config.batchSize),
    '--procs', String(workers), '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(threads)]);
  const r = JSON.parse(stdout.trim().split('\n').pop()!);
  const times = (r.times as number[]).map((t) => t * 1000);
  const ms = median(times);
  return { side: 'ddp', workers, threads: r.threads, batch: r.batch, ms, samplesPerS: (workers * r.batch * 1000) / ms, times, impl: `torch ${r.torch}, G ${r.params.g} + D ${r.params.d} parameters` };
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  let torch = o.torch;
  if (torch && spawnSync(PYTHON, ['-c', 'import torch'], { timeout: 60_000 }).status !== 0) {
    process.stderr.write(`PyTorch DDP skipped: ${PYTHON} cannot import torch\n`);
    torch = false;
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-bench-scaling-'));
  if (!o.json) {
    console.log(`training throughput, case ${o.case.name} (${modelFlags(o.case).join(' ')}), median of ${o.steps} step(s) after ${o.warmup}; `
      + `${CORES} cores, ⌊cores ÷ workers⌋ threads per process; node ${process.version}`);
  }
  const results: Result[] = [];
  // Product then PyTorch at each worker count, so a machine that drifts during the run weighs on both sides alike.
  for (const w of o.workers) {
    for (const side of torch ? (['product', 'ddp'] as const) : (['product'] as const)) {
      const r = side === 'product' ? await product(o, w) : await ddp(o, w);
      results.push(r);
      if (o.json) console.log(JSON.stringify({ case: o.case.name, ...r, ms: +r.ms.toFixed(1), samplesPerS: +r.samplesPerS.toFixed(2), times: r.times.map((t) => +t.toFixed(1)) }));
      else process.stderr.write(`  ${side} ${w} worker(s): ${r.ms.toFixed(0)} ms/step, ${r.samplesPerS.toFixed(1)} samples/s (${r.impl})\n`);
    }
  }
  if (o.json) return;
  const get = (side: string, w: number) => results.find((r) => r.side === side && r.workers === w);
  const base = (side: string) => get(side, Math.min(...o.workers));
  const f = (v: number | undefined, d: number) => (v === undefined ? '–' : v.toFixed(d));
  console.log(`\nproduct: ${results.find((r) => r.side === 'product')!.impl}; PyTorch: ${results.find((r) => r.side === 'ddp')?.impl ?? 'not run'}`);
  console.log('\n| workers | threads each | batch per worker | product ms/step | product samples/s | DDP ms/step | DDP samples/s | product / DDP | product vs fewest workers | DDP vs fewest workers |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const w of o.workers) {
    const p = get('product', w)!;
    const d = get('ddp', w);
    const pb = base('product')!;
    const db = base('ddp');
    console.log(`| ${w} | ${p.threads} | ${p.batch} | ${f(p.ms, 0)} | ${f(p.samplesPerS, 1)} | ${f(d?.ms, 0)} | ${f(d?.samplesPerS, 1)} | ${d ? `${(p.samplesPerS / d.samplesPerS).toFixed(2)}×` : '–'} | `
      + `${(p.samplesPerS / pb.samplesPerS).toFixed(2)}× | ${d && db ? `${(d.samplesPerS / db.samplesPerS).toFixed(2)}×` : '–'} |`);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`scaling: ${(e as Error).message}`);
  process.exit(1);
});
