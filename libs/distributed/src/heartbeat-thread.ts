/**
 * Heartbeats from a worker thread. A worker's main thread can be busy for seconds inside one synchronous TF.js
 * step (the document's model on wasm takes 6-20 s), so heartbeats sent from it would make a healthy worker look
 * dead. This thread has its own event loop and gRPC channel: it reports the step the main thread publishes in
 * shared memory and posts back 'stop' (orderly or failed) and 'lost' (coordinator unreachable) events.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { protoPath } from './rpc';

export type HeartbeatEvent =
  | { type: 'stop'; failed: boolean; reason: string }
  | { type: 'lost'; reason: string };

// Plain CommonJS so it runs in a thread without the TypeScript loader; module paths come in through workerData.
const THREAD_SOURCE = `
const { parentPort, workerData: w } = require('node:worker_threads');
const grpc = require(w.grpcPath);
const loader = require(w.loaderPath);
const def = loader.loadSync(w.protoPath, { keepCase: true, longs: Number, defaults: true });
const pkg = grpc.loadPackageDefinition(def).gan.coordinator.v1;
const client = new pkg.Coordinator(w.coordinator, grpc.credentials.createInsecure());
const step = new Float64Array(w.stepBuffer);
let lastOk = Date.now();
let stopSent = false;
function beat() {
  const deadline = new Date(Date.now() + Math.max(1000, 2 * w.heartbeatMs));
  client.Heartbeat({ worker_id: w.workerId, generation: w.generation, step: step[0] }, { deadline }, (err, res) => {
    if (!err) {
      lastOk = Date.now();
      if (res.stop && (!stopSent || res.failed)) {
        stopSent = !res.failed;
        parentPort.postMessage({ type: 'stop', failed: res.failed, reason: res.reason });
      }
    } else if (err.code === grpc.status.NOT_FOUND || err.code === grpc.status.FAILED_PRECONDITION) {
      parentPort.postMessage({ type: 'stop', failed: true, reason: 'coordinator no longer knows this worker: ' + err.details });
    } else if (Date.now() - lastOk > w.lostAfterMs) {
      parentPort.postMessage({ type: 'lost', reason: 'coordinator ' + w.coordinator + ' unreachable for ' + (Date.now() - lastOk) + ' ms: ' + err.details });
      lastOk = Date.now();
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
  generation: number;
  heartbeatMs: number;
  /** Declare the coordinator lost after this long without a successful heartbeat. */
  lostAfterMs: number;
  onEvent: (e: HeartbeatEvent) => void;
}

export class HeartbeatThread {
  private readonly worker: Worker;
  private readonly step: Float64Array;

  constructor(o: HeartbeatOptions) {
    const req = createRequire(import.meta.url);
    const stepBuffer = new SharedArrayBuffer(8);
    this.step = new Float64Array(stepBuffer);
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        grpcPath: req.resolve('@grpc/grpc-js'), loaderPath: req.resolve('@grpc/proto-loader'),
        protoPath: protoPath('coordinator.proto'), coordinator: o.coordinator, workerId: o.workerId,
        generation: o.generation, heartbeatMs: o.heartbeatMs, lostAfterMs: o.lostAfterMs, stepBuffer,
      },
    });
    this.worker.on('message', (m: HeartbeatEvent) => o.onEvent(m));
    this.worker.on('error', (e) => o.onEvent({ type: 'lost', reason: `heartbeat thread failed: ${e.message}` }));
    this.worker.unref();
  }

  setStep(step: number): void {
    this.step[0] = step;
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await Promise.race([new Promise((r) => this.worker.once('exit', r)), new Promise((r) => setTimeout(r, 1000))]);
    await this.worker.terminate();
  }
}
