// How many compute threads a training process uses when --threads is left out: the cores it may use. A lone
// process (`gan-train train`, or one `gan-train worker` per machine) takes them all; `gan-train local` splits them
// among its workers, so N workers on one machine do not oversubscribe its cores.
// Tests: node tools/run-tests.mjs libs/backend compute-threads
import os from 'node:os';

/** Cores this process may run on (the CPU affinity mask where Node can read it, else all logical CPUs). */
export function availableCores(): number {
  return Math.max(1, os.availableParallelism());
}

/** The thread count of one process: `configured` (from --threads) when given, else every available core. */
export function threadsFor(configured: number | null | undefined, cores: number = availableCores()): number {
  return configured ?? cores;
}

/** Each of `workers` processes sharing `cores`: ⌊cores ÷ workers⌋, at least 1. */
export function threadsPerWorker(cores: number, workers: number): number {
  for (const [k, v] of [['cores', cores], ['workers', workers]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`threadsPerWorker: ${k} must be a positive integer, got ${v}`);
  }
  return Math.max(1, Math.floor(cores / workers));
}
