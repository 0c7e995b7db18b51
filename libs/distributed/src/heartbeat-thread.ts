/**
 * Heartbeats from a worker thread. A worker's main thread can be busy for seconds inside one synchronous TF.js
 * step (the document's model on wasm takes 6-20 s), so heartbeats sent from it would make a healthy worker look
 * dead. This thread (heartbeat-worker.ts) has its own event loop and gRPC channel, made from the same credentials:
 * it reports the step the main thread publishes in shared memory and posts back 'stop' (orderly or failed) and
 * 'lost' (coordinator unreachable) events.
 */
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

/**
 * The thread runs TypeScript: bin/gan-train.mjs registers tsx in the main thread only, worker threads do not inherit
 * registered hooks, and `--import tsx` in a worker's execArgv does not apply to its entry module on Node 20. So a
 * one-line bootstrap registers tsx in the thread and then imports the thread's module.
 */
function bootstrap(): string {
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const body = JSON.stringify(new URL('./heartbeat-worker.ts', import.meta.url).href);
  return `import(${api}).then((tsx) => { tsx.register(); return import(${body}); })`;
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
    this.worker = new Worker(bootstrap(), { eval: true, workerData });
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
