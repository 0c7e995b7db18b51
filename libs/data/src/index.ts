// Public API of @gan/data: datasets as Float32Array producers (no TF.js, no gRPC), the distributed sampler and
// the prefetching per-rank batch stream. Tests: `node tools/run-tests.mjs libs/data`.
export type { Dataset, DatasetName, DatasetSpec, DataLogger } from './types';
export { openDataset } from './open-dataset';
export { DistributedSampler } from './distributed-sampler';
export type { SamplerOptions } from './distributed-sampler';
export { createBatchStream, batchIndices } from './batch-stream';
export type { Batch, BatchStream, BatchStreamOptions } from './batch-stream';
export { toyModes } from './toy-2d';
export { SHAPE_CLASSES } from './shapes';
export { Rng, hashSeed, permutation } from './prng';
