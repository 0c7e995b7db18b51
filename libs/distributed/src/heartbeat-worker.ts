/**
 * The heartbeat thread's body (started by heartbeat-thread.ts in a worker thread, never run directly): its own event
 * loop and coordinator channel, built with the same credentials as the main thread's, so a worker whose main thread
 * is inside a long synchronous TF.js step still answers for itself. Reports the step the main thread publishes in
 * shared memory; posts 'stop', 'reform', 'unknown', 'lost' and 'back' events back.
 */
import * as grpc from '@grpc/grpc-js';
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { RunCredentials, type CredentialsTransfer } from '@gan/auth';
import { coordinatorClient } from './rpc';
import type { HeartbeatEvent } from './heartbeat-thread';

export interface HeartbeatWorkerData {
  coordinator: string;
  workerId: string;
  heartbeatMs: number;
  lostAfterMs: number;
  credentials: CredentialsTransfer;
  /** [step, generation, interval ms], written by the main thread */
  stateBuffer: SharedArrayBuffer;
}

const w = workerData as HeartbeatWorkerData;
const port = parentPort!;
const post = (e: HeartbeatEvent) => port.postMessage(e);
const client = coordinatorClient(w.coordinator, RunCredentials.fromTransfer(w.credentials));
const shared = new Float64Array(w.stateBuffer);
// Monotonic: a wall-clock step must not declare the coordinator lost.
let lastOk = performance.now();
let lost = false;
let stopSent = false;
let reformSent = false;

function beat(): void {
  const deadline = new Date(Date.now() + Math.max(1000, 2 * shared[2]));
  const req = { worker_id: w.workerId, generation: shared[1], step: shared[0] };
  client.Heartbeat(req, { deadline }, (err, res) => {
    if (err || !res) {
      if (err?.code === grpc.status.NOT_FOUND) {
        // A restarted coordinator: the main thread re-registers this worker.
        post({ type: 'unknown', reason: err.details });
      } else if (!lost && performance.now() - lastOk > w.lostAfterMs) {
        lost = true;
        post({ type: 'lost', reason: `coordinator ${w.coordinator} unreachable for ${Math.round(performance.now() - lastOk)} ms: ${err?.details ?? 'no reply'}` });
      }
      return;
    }
    lastOk = performance.now();
    if (lost) {
      lost = false;
      post({ type: 'back' });
    }
    if (res.stop && (!stopSent || res.failed)) {
      stopSent = !res.failed;
      post({ type: 'stop', failed: !!res.failed, reason: res.reason ?? '' });
    }
    if (!!res.reform !== reformSent) {
      reformSent = !!res.reform;
      if (res.reform) post({ type: 'reform' });
    }
  });
}

// A timeout chain rather than setInterval: the interval may change once the coordinator's JoinReply says it.
let timer: NodeJS.Timeout;
const loop = () => {
  beat();
  timer = setTimeout(loop, shared[2] || w.heartbeatMs);
};
loop();
port.on('message', (m) => {
  if (m === 'close') {
    clearTimeout(timer);
    client.close();
    process.exit(0);
  }
});
