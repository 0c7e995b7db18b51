// Times the product's training step — @gan/training's trainStep, what `gan-train train` and every worker run per
// step: D phase + G phase, flat gradients, both Adam updates — per case and thread count, next to the same step in
// PyTorch (bench/torch_step.py) in the same run, and shows where the product's time goes (top kernels of one step).
//
// Run: npm run bench:step [-- --cases default/16,default/64,small/64,mlp/256] [--threads 1,2] [--steps 5]
//      [--warmup 2] [--min-seconds 1] [--rounds 1] [--profile 10] [--backend auto|wasm|cpu|webgpu|tensorflow] [--json]
//      [--no-torch] [--torch-device auto|cpu|cuda] [--timeout 900]
//   --cases      <preset>/<batch>, presets in bench/product-step.ts (default = gan-train's defaults, small, mlp)
//   --threads    thread counts to run at, each for both sides (gan-train --threads; torch.set_num_threads)
//   --steps      timed steps per case and side (more until --min-seconds are timed, for millisecond steps)
//   --rounds R   alternate product and PyTorch R times per (case, threads) and pool each side's steps, so a machine
//                that slows down or speeds up during the run weighs on both sides alike
//   --profile N  top N kernels of one extra profiled step (tf.profile kernel times); 0 = no profile
//   --json       one JSON line per case and thread count instead of the text report and table; a case that fails
//                prints {"case", "error"} and the run goes on
//   --torch-device  PyTorch's device: cpu (the default, except on webgpu), cuda, or auto (cuda when PyTorch has it,
//                else cpu; the default with --backend webgpu); the JSON says which ran
//   --timeout S  seconds each child process (one product case, one PyTorch case) may take before it is killed
// On webgpu each case also reports, per timed step, GPU program dispatches, read-backs (host ← GPU syncs), bytes read
// back, uploads and queue submits (bench/webgpu-counters.ts) and the adapter it ran on.
// Bundled (tools/gpu-bundle.sh → .gpu/app/main.mjs) it runs with no node_modules but the carried `webgpu` package,
// spawning itself the same way: .gpu/run-bench.sh is the one command for the lent GPU machine.
// Each (case, threads) runs the product in a fresh child process of this script (wasm's thread count is fixed at
// its first initialisation in a process), then PyTorch (/usr/bin/python3, or $TORCH_PYTHON) on the same cores, so
// the two sides never compete for them. Speed is compared, never asserted: see README "Speed".
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, describeBackend, initBackend, type BackendRequest } from '@gan/backend';
import { median, parseCases, timeProductStep, type BenchCase, type StepProfile } from './product-step';
import type { StepCounts } from './webgpu-counters';
import { readOptions } from './bench-options';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SELF = fileURLToPath(import.meta.url);

interface Options {
  cases: BenchCase[];
  threads: number[];
  steps: number;
  warmup: number;
  minSeconds: number;
  rounds: number;
  profile: number;
  backend: string;
  json: boolean;
  torch: boolean;
  torchDevice: 'auto' | 'cpu' | 'cuda';
  timeoutS: number;
}

/** bench/torch_step.py's JSON line, or why there is none. */
interface TorchResult {
  median_s?: number;
  times?: number[];
  error?: string;
  torch?: string;
  threads?: number;
  blas?: string;
  device?: string;
  gpu?: string | null;
}

/** The WebGPU adapter a webgpu case ran on (GPUAdapterInfo's fields). */
interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

/** What a child reports for one case: its backend in words and the product's timings. */
interface ChildReport {
  backend: string;
  times: number[];
  lossD: number;
  lossG: number;
  profile?: StepProfile;
  counts?: StepCounts;
  countsSteady?: boolean;
  countsPerStep?: StepCounts[];
  adapter?: AdapterInfo;
}

const FLAGS = ['cases', 'threads', 'steps', 'warmup', 'min-seconds', 'rounds', 'profile', 'backend', 'json', 'no-torch', 'torch-device', 'timeout', 'child'];
const BOOLEAN = ['json', 'no-torch'];

function parseOptions(argv: string[]): Options & { child: boolean } {
  const { raw, int } = readOptions(argv, FLAGS.filter((f) => f !== 'child'), [...BOOLEAN, 'child'], ['child']);
  const threads = String(raw.threads ?? '1,2').split(',').map((t) => Number(t));
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads must be a list of positive integers, e.g. 1,2; got ${String(raw.threads)}`);
  const minSeconds = raw['min-seconds'] === undefined ? 1 : Number(raw['min-seconds']);
  if (!Number.isFinite(minSeconds) || minSeconds < 0) throw new Error(`--min-seconds must be a number ≥ 0, got ${String(raw['min-seconds'])}`);
  const backend = String(raw.backend ?? 'auto');
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) throw new Error(`--backend must be one of ${BACKEND_NAMES.join('|')}, got ${backend}`);
  const torchDevice = String(raw['torch-device'] ?? (backend === 'webgpu' ? 'auto' : 'cpu'));
  if (torchDevice !== 'auto' && torchDevice !== 'cpu' && torchDevice !== 'cuda') throw new Error(`--torch-device must be auto|cpu|cuda, got ${torchDevice}`);
  return {
    cases: parseCases(String(raw.cases ?? 'default/16,default/64,small/64,mlp/256')),
    threads,
    steps: int('steps', 5, 1),
    warmup: int('warmup', 2, 0),
    minSeconds,
    rounds: int('rounds', 1, 1),
    profile: int('profile', 10, 0),
    backend,
    json: raw.json === true,
    torch: raw['no-torch'] !== true,
    torchDevice,
    timeoutS: int('timeout', 900, 1),
    child: raw.child === true,
  };
}

/** Child mode: one case at one thread count on a fresh backend; prints one JSON line (ChildReport). */
async function child(o: Options): Promise<void> {
  // tf.profile's kernel times on webgpu need timestamp queries, which Dawn exposes only with its unsafe APIs
  // allowed. @gan/backend's loader adopts a navigator.gpu that already exists, so the bench provides that one and
  // the product's loader does the rest (globals, adapter check, backend import) as it does for gan-train.
  if (o.backend === 'webgpu' && o.profile > 0) await provideGpuWithTimestamps();
  await initBackend(o.backend as BackendRequest, undefined, { threads: o.threads[0] });
  const r = await timeProductStep(o.cases[0], { steps: o.steps, warmup: o.warmup, minSeconds: o.minSeconds, profileTop: o.profile });
  const report: ChildReport = { backend: describeBackend(), ...r, adapter: tf.getBackend() === 'webgpu' ? await adapterInfo() : undefined };
  process.stdout.write(JSON.stringify(report) + '\n');
}

interface Gpu {
  requestAdapter(o?: object): Promise<{ info?: AdapterInfo } | null>;
}

async function provideGpuWithTimestamps(): Promise<void> {
  const g = globalThis as unknown as { navigator?: { gpu?: Gpu } };
  if (g.navigator?.gpu) return;
  try {
    const webgpu = (await import('webgpu')) as unknown as { create(flags: string[]): Gpu };
    const gpu = webgpu.create(['enable-dawn-features=allow_unsafe_apis']);
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true, writable: true });
  } catch {
    // initBackend's own import of 'webgpu' fails the same way and says why in one line.
  }
}

/** The adapter navigator.gpu gives now (the one tfjs-backend-webgpu asked for the same way), as plain fields. */
async function adapterInfo(): Promise<AdapterInfo | undefined> {
  const gpu = (globalThis as unknown as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
  const info = (await gpu?.requestAdapter({ powerPreference: 'high-performance' }))?.info;
  // Dawn's GPUAdapterInfo keeps its fields as prototype getters, which JSON.stringify would not see.
  return info && { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
}

function runChild(c: BenchCase, threads: number, o: Options): ChildReport {
  const args = [
    ...process.execArgv, SELF, '--child', '--cases', c.name, '--threads', String(threads), '--steps', String(o.steps),
    '--warmup', String(o.warmup), '--min-seconds', String(o.minSeconds), '--profile', String(o.profile), '--backend', o.backend,
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: o.timeoutS * 1000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) {
    const why = r.signal === 'SIGKILL' ? `killed after --timeout ${o.timeoutS} s` : ((r.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? `exit ${r.status ?? r.signal}`);
    throw new Error(`${c.name} at ${threads} thread(s): ${why}`);
  }
  return JSON.parse(line) as ChildReport;
}

function runTorch(c: BenchCase, threads: number, o: Options): TorchResult {
  if (!o.torch) return { error: 'skipped (--no-torch)' };
  const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
  const args = [
    path.join(HERE, 'torch_step.py'), '--model', JSON.stringify(c.model), '--batch', String(c.config.batchSize),
    '--steps', String(o.steps), '--warmup', String(o.warmup), '--min-seconds', String(o.minSeconds), '--threads', String(threads),
  ];
  const run = (device: 'cpu' | 'cuda') => spawnSync(python, [...args, '--device', device], {
    encoding: 'utf8', timeout: o.timeoutS * 1000, killSignal: 'SIGKILL',
    env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
  });
  let r = run(o.torchDevice === 'cpu' ? 'cpu' : 'cuda');
  // torch_step.py exits 3 when torch.cuda.is_available() is False: auto then falls back to the CPU.
  if (o.torchDevice === 'auto' && r.status === 3) r = run('cpu');
  if (r.error) return { error: `${python}: ${r.error.message}` };
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.status !== 0 || !line) return { error: (r.stderr ?? '').trim().split('\n').pop() || `exit ${r.status}` };
  return JSON.parse(line) as TorchResult;
}

const ms = (s: number) => (s * 1000).toFixed(s < 0.1 ? 1 : 0);

function printProfile(p: StepProfile): void {
  console.log(`  top kernels of one profiled step (${p.kernels} kernels, ${p.kernelMs.toFixed(0)} of ${p.stepMs.toFixed(0)} ms; the rest is JS: flat gradient copies, Adam, uploads):`);
  const w = Math.max(...p.top.map((k) => k.name.length));
  for (const k of p.top) console.log(`    ${k.name.padEnd(w)}  ${k.ms.toFixed(1).padStart(8)} ms  ${String(k.count).padStart(4)}×  ${((100 * k.ms) / p.stepMs).toFixed(0).padStart(3)} %`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.child) return child(o);
  const t0 = performance.now();
  const torchNote = o.torch ? `PyTorch via ${process.env.TORCH_PYTHON ?? '/usr/bin/python3'}` : 'no PyTorch (--no-torch)';
  if (!o.json) {
    console.log(`product step (@gan/training trainStep), node ${process.version}, ${os.availableParallelism()} cores, ${torchNote}; ` +
      `${o.steps}+ timed steps (≥ ${o.minSeconds} s) after ${o.warmup} warm-up, ${o.rounds} round${o.rounds === 1 ? '' : 's'} per side, median per step`);
  }
  const rows: string[][] = [];
  for (const c of o.cases) {
    for (const threads of o.threads) {
      let p: ChildReport;
      try {
        p = runChild(c, threads, o);
      } catch (e) {
        // One JSON line per case even when it fails, so a one-shot run on a lent GPU still reports every case.
        if (!o.json) throw e;
        console.log(JSON.stringify({ case: c.name, threads, backend: o.backend, error: (e as Error).message }));
        continue;
      }
      let t = runTorch(c, threads, o);
      for (let r = 1; r < o.rounds; r++) {
        p.times.push(...runChild(c, threads, { ...o, profile: 0 }).times);
        const tr = runTorch(c, threads, o);
        if (t.times && tr.times) t = { ...t, times: [...t.times, ...tr.times], median_s: median([...t.times, ...tr.times]) };
        else t = tr.error ? tr : t;
      }
      const pMed = median(p.times);
      const ratio = t.median_s ? pMed / t.median_s : null;
      if (o.json) {
        console.log(JSON.stringify({
          case: c.name, threads, backend: p.backend, product_median_s: pMed, product_min_s: Math.min(...p.times), product_times: p.times,
          torch_median_s: t.median_s ?? null, torch_min_s: t.times ? Math.min(...t.times) : null, torch_times: t.times ?? null,
          torch_error: t.error, torch_version: t.torch, torch_threads: t.threads, torch_blas: t.blas, torch_device: t.device ?? null,
          torch_gpu: t.gpu ?? null, ratio, lossD: p.lossD, lossG: p.lossG,
          dispatches_per_step: p.counts?.dispatches ?? null, readbacks_per_step: p.counts?.readbacks ?? null,
          bytes_read_per_step: p.counts?.bytesRead ?? null, uploads_per_step: p.counts?.uploads ?? null,
          bytes_uploaded_per_step: p.counts?.bytesUploaded ?? null, submits_per_step: p.counts?.submits ?? null,
          counts_steady: p.countsSteady ?? null, counts_per_step: p.countsPerStep, adapter: p.adapter ?? null, profile: p.profile ?? null,
        }));
        continue;
      }
      const tcol = t.median_s != null ? `PyTorch ${ms(t.median_s)} ms (min ${ms(Math.min(...t.times!))}, torch ${t.torch}, ${t.device === 'cuda' ? `cuda ${t.gpu ?? ''}` : t.blas})` : `PyTorch: ${t.error}`;
      console.log(`${c.name} @ ${threads} thread${threads === 1 ? '' : 's'}: product ${ms(pMed)} ms (min ${ms(Math.min(...p.times))}, ${p.times.length} steps, ${p.backend}), ${tcol}${ratio ? `, ${ratio.toFixed(2)}×` : ''}`);
      if (p.counts) {
        const k = p.counts;
        console.log(`  per step: ${k.dispatches} dispatches, ${k.readbacks} read-backs (${k.bytesRead} bytes), ${k.uploads} uploads (${k.bytesUploaded} bytes), ${k.submits} submits${p.countsSteady ? '' : ' (last step; the steps differ)'}` +
          (p.adapter ? `; adapter ${[p.adapter.vendor, p.adapter.architecture, p.adapter.description].filter(Boolean).join(' / ')}` : ''));
      }
      if (p.profile) printProfile(p.profile);
      rows.push([c.name, String(threads), p.backend, ms(pMed), t.median_s != null ? ms(t.median_s) : '-', ratio ? `${ratio.toFixed(2)}×` : '-']);
    }
  }
  if (o.json) return;
  const head = ['case', 'threads', 'backend', 'product ms', 'PyTorch ms', 'product / PyTorch'];
  console.log(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(`\nwall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  main().catch((e) => {
    console.error(`step-time: ${(e as Error).message}`);
    process.exit(1);
  });
}
