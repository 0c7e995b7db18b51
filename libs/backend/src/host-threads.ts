// The process's host compute threads: a pool of worker threads that run a WebAssembly module's exports over chunks
// of one shared memory, for the elementwise loops a training step runs on the host (@gan/model's optimiser updates).
// initBackend sizes it from --threads (setHostThreads); at 1, the default, everything runs on the calling thread and
// no worker starts.
//
// Why: Adam's float64 update of the document's G (12.7 M parameters) took 32 ms of every step on one core of a
// 2-core box, the same order as a whole GPU step, while the other cores idled. Every element is computed by the same
// code whichever thread runs it, so results are bit-identical at any thread count (replicas may run different ones).
//
// How: a call splits [0, n) into at most `threads` chunks; the calling thread runs chunk 0 while worker k runs chunk
// k, then blocks on a shared counter until all have finished, so the caller's API stays synchronous. Between calls
// the workers block in Atomics.wait; they are unref'd, so they never keep a process alive. A kernel's instance
// reaches a worker as a message that the worker drains synchronously (receiveMessageOnPort) when the next call
// starts, and is dropped there once the kernel is garbage-collected.
// Tests: node tools/run-tests.mjs libs/backend host-threads
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

/** Slots of the shared control words (Int32Array). */
const GEN = 0;
const DONE = 1;
const INSTANCE = 2;
const FN = 3;
const CHUNKS = 4;
const NARGS = 5;
const FAILED = 6;
const CONTROL_WORDS = 8;

/** The most arguments an export called through the pool may take. */
export const MAX_HOST_ARGS = 16;

/** Fewer elements per chunk than this cost more to hand to a worker than they take to compute. */
export const MIN_HOST_CHUNK = 1 << 15;

/** A call whose workers have not all finished by then is reported as failed rather than waited on forever. */
const CALL_DEADLINE_MS = 120_000;

// CommonJS, run with eval: a bundled product has no separate worker file to point at.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { ctrl, args, results, port, index, maxArgs } = workerData;
const instances = new Map();
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, ${GEN}, seen);
  const gen = Atomics.load(ctrl, ${GEN});
  if (gen === seen) continue;
  seen = gen;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const { id, module, memory, names } = m.message;
    if (module) {
      const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
      instances.set(id, names.map((n) => exports[n]));
    } else instances.delete(id);
  }
  if (index >= Atomics.load(ctrl, ${CHUNKS})) continue;
  try {
    const fn = instances.get(Atomics.load(ctrl, ${INSTANCE}))[Atomics.load(ctrl, ${FN})];
    const at = index * maxArgs;
    results[index] = fn(...args.subarray(at, at + Atomics.load(ctrl, ${NARGS})));
  } catch {
    Atomics.store(ctrl, ${FAILED}, index);
  } finally {
    Atomics.add(ctrl, ${DONE}, 1);
    Atomics.notify(ctrl, ${DONE});
  }
}
`;

interface Pool {
  threads: number;
  /** Ports to workers 1 … threads − 1. */
  ports: MessagePort[];
  workers: Worker[];
  ctrl: Int32Array;
  args: Float64Array;
  results: Float64Array;
}

let threads = 1;
let pool: Pool | null = null;
/** Bumped whenever the pool is replaced, so kernels know to introduce themselves to the new workers. */
let poolEpoch = 0;

/** Sets the host compute threads of this process (initBackend calls it with --threads; 1 until then). */
export function setHostThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setHostThreads: threads must be a positive integer, got ${n}`);
  if (n === threads) return;
  threads = n;
  if (pool) {
    for (const w of pool.workers) void w.terminate();
    pool = null;
    poolEpoch++;
  }
}

/** The host compute threads (the calling thread included). */
export function hostThreads(): number {
  return threads;
}

function startPool(): Pool {
  const ctrl = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  const args = new Float64Array(new SharedArrayBuffer(threads * MAX_HOST_ARGS * 8));
  const results = new Float64Array(new SharedArrayBuffer(threads * 8));
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];
  for (let index = 1; index < threads; index++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ctrl, args, results, port: port2, index, maxArgs: MAX_HOST_ARGS },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    ports.push(port1);
    workers.push(worker);
  }
  return { threads, ports, workers, ctrl, args, results };
}

/** One chunk of a pooled call: the elements [lo, lo + count) and what the export returned for them. */
export interface HostChunk {
  lo: number;
  count: number;
  result: number;
}

/** A WebAssembly module instantiated over its own shared memory, callable on the host threads. */
export interface HostKernel<Name extends string> {
  /** The shared memory: views of it stay valid for the kernel's life (its size is fixed). */
  readonly memory: WebAssembly.Memory;
  /**
   * Calls export `name` over [0, n), split into chunks of whole multiples of `align` (at most one per host thread,
   * none under MIN_HOST_CHUNK elements but the only one), with the arguments `args(lo, count)` (numbers: i32 and
   * f64 parameters alike) for each. Returns when every chunk is done, the chunks in order.
   * @throws Error naming the export when a chunk traps (the other chunks still finish first)
   */
  run(name: Name, n: number, align: number, args: (lo: number, count: number) => number[]): HostChunk[];
}

let nextId = 1;
/** Tells the workers of the pool a kernel was introduced to that it is gone. */
const forget = new FinalizationRegistry<{ id: number; epoch: number }>(({ id, epoch }) => {
  if (pool && epoch === poolEpoch) for (const p of pool.ports) p.postMessage({ id });
});

/**
 * Instantiates `module` (which imports `env.memory`, shared, of at least `pages` 64 KiB pages) over a new shared
 * memory of exactly `pages` pages, for calls through the host threads to the exports `names`.
 */
export function createHostKernel<Name extends string>(module: WebAssembly.Module, names: readonly Name[], pages: number): HostKernel<Name> {
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, unknown>;
  const local = names.map((n) => {
    const f = exports[n];
    if (typeof f !== 'function') throw new Error(`createHostKernel: the module has no export '${n}'`);
    return f as (...a: number[]) => number;
  });
  const id = nextId++;
  let introducedIn = -1;
  const kernel: HostKernel<Name> = {
    memory,
    run(name, n, align, args) {
      const fn = names.indexOf(name);
      if (fn < 0) throw new Error(`HostKernel.run: '${name}' is not one of ${names.join(', ')}`);
      const chunks = split(n, align);
      if (chunks.length === 1) return [{ ...chunks[0], result: local[fn](...args(0, n)) }];
      const p = (pool ??= startPool());
      if (introducedIn !== poolEpoch) {
        for (const port of p.ports) port.postMessage({ id, module, memory, names });
        introducedIn = poolEpoch;
        forget.register(kernel, { id, epoch: poolEpoch });
      }
      const first = args(chunks[0].lo, chunks[0].count);
      const nargs = first.length;
      if (nargs > MAX_HOST_ARGS) throw new Error(`HostKernel.run: at most ${MAX_HOST_ARGS} arguments, got ${nargs}`);
      for (let k = 1; k < chunks.length; k++) p.args.set(args(chunks[k].lo, chunks[k].count), k * MAX_HOST_ARGS);
      Atomics.store(p.ctrl, INSTANCE, id);
      Atomics.store(p.ctrl, FN, fn);
      Atomics.store(p.ctrl, CHUNKS, chunks.length);
      Atomics.store(p.ctrl, NARGS, nargs);
      Atomics.store(p.ctrl, FAILED, 0);
      Atomics.store(p.ctrl, DONE, 0);
      Atomics.add(p.ctrl, GEN, 1);
      Atomics.notify(p.ctrl, GEN);
      let result0 = NaN;
      let error: unknown = null;
      try {
        result0 = local[fn](...first);
      } catch (e) {
        error = e;
      }
      // The workers write the shared memory: return only once they are done, even when chunk 0 failed.
      waitForWorkers(p, chunks.length - 1, name);
      const failed = Atomics.load(p.ctrl, FAILED);
      if (error || failed) {
        const which = error ? chunks[0] : chunks[failed];
        throw new Error(`host kernel '${name}' failed on elements [${which.lo}, ${which.lo + which.count})${error instanceof Error ? `: ${error.message}` : ''}`);
      }
      return chunks.map((c, k) => ({ ...c, result: k === 0 ? result0 : p.results[k] }));
    },
  };
  return kernel;
}

function waitForWorkers(p: Pool, expected: number, name: string): void {
  const deadline = performance.now() + CALL_DEADLINE_MS;
  for (let done = Atomics.load(p.ctrl, DONE); done < expected; done = Atomics.load(p.ctrl, DONE)) {
    if (performance.now() > deadline) throw new Error(`host kernel '${name}': ${expected - done} worker thread(s) did not finish in ${CALL_DEADLINE_MS / 1000} s`);
    Atomics.wait(p.ctrl, DONE, done, 1000);
  }
}

/** [0, n) as at most `threads` chunks of whole `align`s, none under MIN_HOST_CHUNK but a lone one. */
function split(n: number, align: number): { lo: number; count: number }[] {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(align) || align < 1 || n % align !== 0) {
    throw new Error(`HostKernel.run: n (${n}) must be a non-negative multiple of align (${align})`);
  }
  const k = Math.max(1, Math.min(threads, Math.floor(n / MIN_HOST_CHUNK)));
  const per = Math.ceil(n / k / align) * align;
  const out: { lo: number; count: number }[] = [];
  for (let lo = 0; lo < n || out.length === 0; lo += per) out.push({ lo, count: Math.min(per, n - lo) });
  return out;
}
