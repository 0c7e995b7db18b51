// Times the DCGAN training step on TF.js WebGPU (Dawn through the npm `webgpu` package) and on PyTorch CUDA, on
// the lent GPU machine. Built into .gpu/app/main.mjs by tools/gpu-bundle.sh; run there (from the repo root) with:
//   bash .gpu/on-device.sh .gpu/app/main.mjs [--cases seed:16,seed:64,small:64] [--steps 10] [--warmup 3]
//        [--no-torch] [--max-seconds 420]
// Check the bundle on a CPU-only machine first: node .gpu/app/main.mjs --dry-cpu (tfjs cpu backend, small:4, one
// step, PyTorch on the CPU): it exercises everything but Dawn, so a broken bundle does not cost GPU time.
// Prints one JSON line per event: {"event":"adapter"...}, one {"event":"case"...} per config with the tfjs-webgpu
// median and PyTorch CUDA median (bench/torch_step.py --device cuda, found next to this bundle), and a final
// {"event":"done"}. Without a WebGPU adapter it prints {"event":"error",...} and exits 2 (never hangs: every wait
// has a deadline). The step itself (model, Adam, timing) is bench/raw-dcgan-step.ts's self-contained raw-op copy,
// not the product's step that bench/step-time.ts times: compare GPU figures with each other, not with the CPU table.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node entry has no gradients; esbuild can bundle this ESM file (plain Node cannot import it).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, parseCases, runTorch, timeSteps } from './raw-dcgan-step';

function emit(obj: Record<string, unknown>): void {
  console.log(JSON.stringify(obj));
}

function fail(msg: string, code = 1): never {
  emit({ event: 'error', error: msg });
  process.exit(code);
}

async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no answer after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** The python that has torch with CUDA, or why there is none. */
function findTorchPython(): { python?: string; why?: string } {
  const tried: string[] = [];
  for (const py of [process.env.TORCH_PYTHON, 'python3', '/usr/bin/python3', 'python'].filter(Boolean) as string[]) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__, torch.cuda.is_available())'], { encoding: 'utf8', timeout: 120_000 });
    if (r.error) {
      tried.push(`${py}: ${r.error.message}`);
      continue;
    }
    const out = (r.stdout ?? '').trim();
    if (r.status === 0 && out.endsWith('True')) return { python: py };
    tried.push(`${py}: ${out || (r.stderr ?? '').trim().split('\n').pop()}`);
  }
  return { why: tried.join('; ') };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
  };
  const cases = parseCases(opt('cases', argv.includes('--dry-cpu') ? 'small:4' : 'seed:16,seed:64,small:64'));
  const steps = Number(opt('steps', argv.includes('--dry-cpu') ? '1' : '10'));
  const warmup = Number(opt('warmup', argv.includes('--dry-cpu') ? '0' : '3'));
  const maxSeconds = Number(opt('max-seconds', '420'));
  // A hard stop well inside the device tool's limit, so a stuck GPU call still leaves a JSON line behind.
  setTimeout(() => fail(`gpu-step: gave up after --max-seconds ${maxSeconds}`, 124), maxSeconds * 1000).unref();

  if (argv.includes('--dry-cpu')) return dryCpu(cases, steps, warmup);
  let webgpu: { create: (flags: string[]) => { requestAdapter(o?: object): Promise<any> }; globals: Record<string, unknown> };
  try {
    webgpu = (await import('webgpu')) as unknown as typeof webgpu;
  } catch (e) {
    fail(`cannot load the 'webgpu' package (dawn.node): ${(e as Error).message.split('\n')[0]}`, 2);
  }
  const gpu = webgpu.create([]);
  const adapter = await withDeadline(gpu.requestAdapter({ powerPreference: 'high-performance' }), 60_000, 'requestAdapter');
  if (!adapter) fail('no WebGPU adapter: no GPU, or no usable Vulkan driver (is VK_DRIVER_FILES set and libvulkan1 installed?)', 2);
  const info = adapter.info ?? {};
  emit({ event: 'adapter', vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description });
  Object.assign(globalThis, webgpu.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  // Registers the 'webgpu' backend only if navigator.gpu exists at import time, hence the dynamic import here.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await withDeadline(tf.setBackend('webgpu'), 120_000, "tf.setBackend('webgpu')"))) fail("tf.setBackend('webgpu') failed");
  await tf.ready();

  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = path.join(here, 'torch_step.py');
  const noTorch = argv.includes('--no-torch');
  const torchPy = noTorch ? { why: 'skipped (--no-torch)' } : fs.existsSync(script) ? findTorchPython() : { why: `${script} not found` };
  if (!torchPy.python) emit({ event: 'torch-unavailable', why: torchPy.why });

  for (const { cfg, batch } of cases) {
    const r = await timeSteps(cfg, batch, steps, warmup);
    const tfjs = median(r.times);
    const torch = torchPy.python ? runTorch(torchPy.python, script, cfg.name, batch, steps, warmup, 4, 'cuda', 300_000) : { error: torchPy.why };
    emit({
      event: 'case',
      case: `${cfg.name}/${batch}`,
      tfjs_webgpu_median_s: tfjs,
      tfjs_min_s: Math.min(...r.times),
      tfjs_times: r.times,
      torch_cuda_median_s: torch.median_s ?? null,
      torch_error: torch.error,
      torch_version: torch.torch,
      ratio: torch.median_s ? tfjs / torch.median_s : null,
      lossD: r.lossD,
      lossG: r.lossG,
    });
  }
  emit({ event: 'done' });
  process.exit(0);
}

/** The same flow on tfjs's cpu backend and PyTorch CPU: proves the bundle, its gradients and torch_step.py work. */
async function dryCpu(cases: ReturnType<typeof parseCases>, steps: number, warmup: number): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) fail("tf.setBackend('cpu') failed");
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_step.py');
  for (const { cfg, batch } of cases) {
    const r = await timeSteps(cfg, batch, steps, warmup);
    const torch = runTorch(process.env.TORCH_PYTHON ?? '/usr/bin/python3', script, cfg.name, batch, steps, warmup, 2, 'cpu', 300_000);
    emit({ event: 'dry-cpu-case', case: `${cfg.name}/${batch}`, tfjs_cpu_median_s: median(r.times), torch_cpu_median_s: torch.median_s ?? null, torch_error: torch.error, lossD: r.lossD, lossG: r.lossG });
  }
  emit({ event: 'done' });
  process.exit(0);
}

main().catch((e) => fail(`gpu-step: ${(e as Error).message.split('\n')[0]}`));
