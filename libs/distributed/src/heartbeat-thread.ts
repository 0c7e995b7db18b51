/**
 * Heartbeats from a worker thread. A worker's main thread can be busy for seconds inside one synchronous TF.js
 * step (the document's model on wasm takes 6-20 s), so heartbeats sent from it would make a healthy worker look
 * dead. This thread (heartbeat-worker.ts) has its own event loop and gRPC channel, made from the same credentials:
 * it reports the step the main thread publishes in shared memory and posts back 'stop' (orderly or failed) and
 * 'lost' (coordinator unreachable) events.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RunCredentials } from '@gan/auth';
import type { HeartbeatWorkerData } from './heartbeat-worker';

export type HeartbeatEvent =
  | { type: 'stop'; failed: boolean; reason: string }
  | { type: 'reform' }
  | { type: 'unknown'; reason: string }
  | { type: 'lost'; reason: string }
  | { type: 'back' };

export interface HeartbeatOptions {
  coordinator: string;
  workerId: string;
  heartbeatMs: number;
  /** Declare the coordinator lost after this long without a successful heartbeat. */
  lostAfterMs: number;
  credentials: RunCredentials;
  onEvent: (e: HeartbeatEvent) => void;
}

/** The file a bundled worker app has its heartbeat thread in, beside its main.mjs (tools/build.mjs makes it). */
export const HEARTBEAT_BUNDLE = 'heartbeat-worker.mjs';

/**
 * Where the thread starts. In a bundle (the installed package's dist/apps/worker/main.mjs, whose import.meta.url
 * this is then), the build put heartbeat-worker.ts beside it, bundled, as HEARTBEAT_BUNDLE. From the sources the
 * thread runs TypeScript: bin/gan-train.mjs registers tsx in the main thread only, worker threads do not inherit
 * registered hooks, and `--import tsx` in a worker's execArgv does not apply to its entry module on Node 20. So a
 * one-line bootstrap registers tsx in the thread and then imports the thread's module.
 */
function threadEntry(): { file: URL } | { code: string } {
  const bundled = new URL(`./${HEARTBEAT_BUNDLE}`, import.meta.url);
  if (fs.existsSync(fileURLToPath(bundled))) return { file: bundled };
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const body = JSON.stringify(new URL('./heartbeat-worker.ts', import.meta.url).href);
  return { code: `import(${api}).then((tsx) => { tsx.register(); return import(${body}); })` };
}

export class HeartbeatThread {
  private readonly worker: Worker;
  private readonly shared: Float64Array;

  constructor(o: HeartbeatOptions) {
    const stateBuffer = new SharedArrayBuffer(24);
    this.shared = new Float64Array(stateBuffer);
    this.shared[2] = o.heartbeatMs;
    const workerData: HeartbeatWorkerData = {
      coordinator: o.coordinator, workerId: o.workerId, heartbeatMs: o.heartbeatMs, lostAfterMs: o.lostAfterMs,
      credentials: o.credentials.transfer(), stateBuffer,
    };
    const entry = threadEntry();
    this.worker = 'file' in entry ? new Worker(entry.file, { workerData }) : new Worker(entry.code, { eval: true, workerData });
    this.worker.on('message', (m: HeartbeatEvent) => o.onEvent(m));
    this.worker.on('error', (e) => o.onEvent({ type: 'lost', reason: `heartbeat thread failed: ${e.message}` }));
    this.worker.unref();
  }

  setStep(step: number): void {
    this.shared[0] = step;
  }

  setGeneration(generation: number): void {
    this.shared[1] = generation;
  }

  /** The interval the coordinator asked for (JoinReply.heartbeat_ms), from the next beat on. */
  setInterval(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) this.shared[2] = ms;
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await Promise.race([new Promise((r) => this.worker.once('exit', r)), new Promise((r) => setTimeout(r, 1000))]);
    await this.worker.terminate();
  }
}
