// The per-rank batch stream: batch t is positions [t·B, (t+1)·B) of the endless concatenation of this rank's
// DistributedSampler epochs 0, 1, 2, ..., so it is a pure function of (seed, rank, worldSize, batchSize, t) and a
// run resumed at startStep sees exactly the batches of an uninterrupted run. Batches are produced `prefetch`
// steps ahead (scheduled with setImmediate, so sync readers run between the consumer's awaits and async readers
// such as sharp decode on their own threads), and the time next() waits is accumulated. Tested in
// batch-stream.test.ts.
import { DistributedSampler } from './distributed-sampler';
import type { Dataset } from './types';

export interface BatchStreamOptions {
  dataset: Dataset;
  batchSize: number;
  rank: number;
  worldSize: number;
  seed: number;
  dropLast?: boolean;
  /** Default true. */
  shuffle?: boolean;
  /** First global step to produce (a resumed run passes its next step). Default 0. */
  startStep?: number;
  /** Batches produced ahead of the consumer. Default 2; 0 = produce on demand. */
  prefetch?: number;
}

export interface Batch {
  step: number;
  /** batchSize × sampleSize floats, samples back to back. */
  data: Float32Array;
  /** The epoch of the batch's first sample. */
  epoch: number;
  /** The dataset indices the batch holds, in order. */
  indices: Int32Array;
}

export interface BatchStream {
  next(): Promise<Batch>;
  /** Total milliseconds next() spent waiting for a batch that was not ready yet. */
  waitMs(): number;
  close(): void;
  /** This rank's samples per epoch. */
  readonly numSamples: number;
}

/** The dataset indices of batch `step` (pure; exported for tests and for tools that want indices only). */
export function batchIndices(sampler: DistributedSampler, batchSize: number, step: number, epochCache?: Map<number, Int32Array>): { indices: Int32Array; epoch: number } {
  const per = sampler.numSamples;
  const out = new Int32Array(batchSize);
  const start = step * batchSize;
  const firstEpoch = Math.floor(start / per);
  for (let j = 0; j < batchSize; j++) {
    const p = start + j;
    const e = Math.floor(p / per);
    let idx = epochCache?.get(e);
    if (!idx) {
      sampler.setEpoch(e);
      idx = sampler.indices();
      if (epochCache) {
        epochCache.set(e, idx);
        // Keep only the few epochs a sliding window of batches can touch.
        for (const k of epochCache.keys()) if (k < e - 1) epochCache.delete(k);
      }
    }
    out[j] = idx[p - e * per];
  }
  return { indices: out, epoch: firstEpoch };
}

export function createBatchStream(opts: BatchStreamOptions): BatchStream {
  const { dataset, batchSize, rank, worldSize, seed, dropLast = false, shuffle = true, startStep = 0, prefetch = 2 } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`createBatchStream: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(startStep) || startStep < 0) throw new Error(`createBatchStream: startStep must be a non-negative integer, got ${startStep}`);
  if (!Number.isInteger(prefetch) || prefetch < 0) throw new Error(`createBatchStream: prefetch must be a non-negative integer, got ${prefetch}`);
  const sampler = new DistributedSampler({ length: dataset.length, worldSize, rank, seed, shuffle, dropLast });
  const epochCache = new Map<number, Int32Array>();
  const pending = new Map<number, Promise<Batch>>();
  let nextStep = startStep; // the step the next next() returns
  let scheduled = startStep; // the first step not yet scheduled
  let waited = 0;
  let closed = false;

  const produce = (step: number): Promise<Batch> =>
    new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const { indices, epoch } = batchIndices(sampler, batchSize, step, epochCache);
      const data = new Float32Array(batchSize * dataset.sampleSize);
      await dataset.read(indices, data);
      return { step, data, epoch, indices };
    });

  const fill = () => {
    while (!closed && scheduled < nextStep + prefetch) {
      const p = produce(scheduled);
      // A prefetched batch that fails is reported by the next() that takes it, not as an unhandled rejection.
      p.catch(() => {});
      pending.set(scheduled, p);
      scheduled++;
    }
  };

  return {
    numSamples: sampler.numSamples,
    async next() {
      if (closed) throw new Error('batch stream is closed');
      const step = nextStep++;
      let p = pending.get(step);
      pending.delete(step);
      if (!p) {
        p = produce(step);
        scheduled = Math.max(scheduled, step + 1);
      }
      fill();
      const t0 = performance.now();
      try {
        return await p;
      } finally {
        waited += performance.now() - t0;
      }
    },
    waitMs: () => waited,
    close() {
      closed = true;
      pending.clear();
    },
  };
}
