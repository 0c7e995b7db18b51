/**
 * Heartbeats from a worker thread. A worker's main thread can be busy for seconds inside one synchronous TF.js
 * step (the document's model on wasm takes 6-20 s), so heartbeats sent from it would make a healthy worker look
 * dead. This thread has its own event loop and gRPC channel: it reports the step the main thread publishes in
 * shared memory and posts back 'stop' (orderly or failed) and 'lost' (coordinator unreachable) events.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { protoPath } from '@gan/proto';
import { COORDINATOR_CHANNEL_OPTIONS } from './credentials';

export type HeartbeatEvent =
  | { type: 'stop'; failed: boolean; reason: string }
  | { type: 'reform' }
  | { type: 'unknown'; reason: string }
  | { type: 'lost'; reason: string }
  | { type: 'back' };

// Plain CommonJS so it runs in a thread without the TypeScript loader; module paths come in through workerData.
const THREAD_SOURCE = `
const { parentPort, workerData: w } = require('node:worker_threads');
const grpc = require(w.grpcPath);
const loader = require(w.loaderPath);
const def = loader.loadSync(w.protoPath, { keepCase: true, longs: Number, defaults: true });
const pkg = grpc.loadPackageDefinition(def).gan.coordinator.v1;
const client = new pkg.Coordinator(w.coordinator, grpc.credentials.createInsecure(), w.channelOptions);
const shared = new Float64Array(w.stateBuffer); // [step, generation], written by the main thread
let lastOk = Date.now();
let lost = false;
let stopSent = false;
let reformSent = false;
function beat() {
  const deadline = new Date(Date.now() + Math.max(1000, 2 * w.heartbeatMs));
  client.Heartbeat({ worker_id: w.workerId, generation: shared[1], step: shared[0] }, { deadline }, (err, res) => {
    if (!err) {
      lastOk = Date.now();
      if (lost) { lost = false; parentPort.postMessage({ type: 'back' }); }
      if (res.stop && (!stopSent || res.failed)) {
        stopSent = !res.failed;
        parentPort.postMessage({ type: 'stop', failed: res.failed, reason: res.reason });
      }
      if (res.reform !== reformSent) {
        reformSent = res.reform;
        if (res.reform) parentPort.postMessage({ type: 'reform' });
      }
    } else if (err.code === grpc.status.NOT_FOUND) {
      // A restarted coordinator: the main thread re-registers this worker.
      parentPort.postMessage({ type: 'unknown', reason: err.details });
    } else if (!lost && Date.now() - lastOk > w.lostAfterMs) {
      lost = true;
      parentPort.postMessage({ type: 'lost', reason: 'coordinator ' + w.coordinator + ' unreachable for ' + (Date.now() - lastOk) + ' ms: ' + err.details });
    }
  });
}
const timer = setInterval(beat, w.heartbeatMs);
beat();
parentPort.on('message', (m) => { if (m === 'close') { clearInterval(timer); client.close(); process.exit(0); } });
`;

export interface HeartbeatOptions {
  coordinator: string;
  workerId: string;
  heartbeatMs: number;
  /** Declare the coordinator lost after this long without a successful heartbeat. */
  lostAfterMs: number;
  onEvent: (e: HeartbeatEvent) => void;
}

export class HeartbeatThread {
  private readonly worker: Worker;
  private readonly shared: Float64Array;

  constructor(o: HeartbeatOptions) {
    const req = createRequire(import.meta.url);
    const stateBuffer = new SharedArrayBuffer(16);
    this.shared = new Float64Array(stateBuffer);
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        grpcPath: req.resolve('@grpc/grpc-js'), loaderPath: req.resolve('@grpc/proto-loader'),
        protoPath: protoPath('coordinator'), coordinator: o.coordinator, workerId: o.workerId,
        heartbeatMs: o.heartbeatMs, lostAfterMs: o.lostAfterMs, stateBuffer, channelOptions: { ...COORDINATOR_CHANNEL_OPTIONS },
      },
    });
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

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await Promise.race([new Promise((r) => this.worker.once('exit', r)), new Promise((r) => setTimeout(r, 1000))]);
    await this.worker.terminate();
  }
}
