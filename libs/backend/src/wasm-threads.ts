// Makes tfjs-backend-wasm's threaded-SIMD build (XNNPACK on a pthread pool) start under Node.
//
// tfjs 4.22 never picks that build in Node (WASM_HAS_MULTITHREAD_SUPPORT is hard-wired false there, tfjs #3830),
// and forcing the flag alone fails three ways, each worked around here for the duration of tf.setBackend('wasm'):
//  1. the pthread worker script is handed to Emscripten as a blob: URL, which Node's worker_threads refuses
//     (ERR_WORKER_PATH) → Blob is wrapped to remember string contents, and URL.createObjectURL writes the worker
//     script to a temp file and returns its path (the script itself already has a Node branch);
//  2. each worker then loads the main script from a Blob of `factory.toString()`, whose bundled code refers to the
//     bundler's require$$0 names → the worker file gets a prologue that points its 'load' message at the package's
//     own wasm-out/tfjs-backend-wasm-threaded-simd.js instead;
//  3. the XNNPACK pool is capped at logical cores / 2 (1 on a 2-core machine) → os.cpus() reports 2·threads cores
//     while the backend initialises.
// Measured on the 2-vCPU box: a 16×32×32×64 → 128 stride-2 conv2d went 35 ms → 23.5 ms with 2 threads.
//  4. the pool's worker_threads are ref'd, so the process would never exit → they are unref'd after init.
// Used by initBackend when opts.threads > 1 (gan-train's --threads: by default the cores the process may use).
import * as tf from '@tensorflow/tfjs-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { wasmPackage } from './wasm-package';

/**
 * Runs `init` (which must call tf.setBackend('wasm')) with the threaded-SIMD build enabled for `threads` threads.
 * Call before the wasm backend is first initialised in this process.
 */
export async function withWasmThreads<T>(threads: number, init: () => Promise<T>): Promise<T> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`wasm threads must be a positive integer, got ${threads}`);
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const mainScript = path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  if (!fs.existsSync(mainScript)) throw new Error(`wasm threads: ${mainScript} not found`);
  const wasm = await wasmPackage();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gan-wasm-threads-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

  const texts = new WeakMap<Blob, string>();
  const OrigBlob = globalThis.Blob;
  class RecordingBlob extends OrigBlob {
    constructor(parts?: BlobPart[], opts?: BlobPropertyBag) {
      super(parts, opts);
      if (parts && parts.every((p) => typeof p === 'string')) texts.set(this, (parts as string[]).join(''));
    }
  }
  const origCreate = URL.createObjectURL;
  const origCpus = os.cpus;
  let n = 0;
  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = (obj: Blob) => {
    const text = texts.get(obj);
    if (text == null) return origCreate(obj);
    const file = path.join(dir, `worker-${n++}.cjs`);
    const prologue =
      `const __wt=require('worker_threads');const __on=__wt.parentPort.on.bind(__wt.parentPort);` +
      `__wt.parentPort.on=(ev,fn)=>__on(ev,ev==='message'?(d)=>{if(d&&d.cmd==='load')d.urlOrBlob=${JSON.stringify(mainScript)};fn(d)}:fn);\n`;
    fs.writeFileSync(file, prologue + text);
    return file;
  };
  (os as { cpus: typeof os.cpus }).cpus = () => {
    const c = origCpus();
    return Array.from({ length: 2 * threads }, (_, i) => c[i % c.length]);
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  try {
    const out = await init();
    // Emscripten's pool workers are ref'd Node workers: they would keep the process alive after main() ends.
    const pt = (tf.findBackend('wasm') as unknown as { wasm?: { PThread?: { unusedWorkers: { unref(): void }[]; runningWorkers: { unref(): void }[] } } } | null)?.wasm?.PThread;
    for (const w of [...(pt?.unusedWorkers ?? []), ...(pt?.runningWorkers ?? [])]) w.unref();
    return out;
  } finally {
    globalThis.Blob = OrigBlob;
    URL.createObjectURL = origCreate;
    (os as { cpus: typeof os.cpus }).cpus = origCpus;
  }
}
