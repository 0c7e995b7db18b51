// Public API of @gan/data: datasets as Float32Array producers (no TF.js, no gRPC), the distributed sampler and
// the prefetching per-rank batch stream. Tests: `node tools/run-tests.mjs libs/data`.
export type { Dataset, DatasetName, DatasetSpec, DataLogger } from './types';
export { openDataset } from './open-dataset';
export { DistributedSampler } from './distributed-sampler';
export type { SamplerOptions } from './distributed-sampler';
export { createBatchStream, batchIndices } from './batch-stream';
export type { Batch, BatchStream, BatchStreamOptions } from './batch-stream';
export { toyModes } from './toy-2d';
export { SHAPE_CLASSES, renderShape } from './shapes';
export { Rng, hashSeed, permutation } from './prng';
export { makeImageConverter, resampleTaps } from './pixels';
export type { ResizeMode, U8Images } from './pixels';
export { parseIdx, readIdxFile, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IDX_MAX_BYTES } from './idx';
export type { IdxArray, IdxReadOptions } from './idx';
export { idxFileNames, defaultDataDir } from './idx-dataset';
export { cifarFileNames, readCifarFiles, extractBinMembers, CIFAR10_TAR_MAX_BYTES } from './cifar10';
export { imageFolderStats, clearImageFolderCache } from './image-folder';
export { downloadVerified, IDX_CHECKSUMS, CIFAR10_CHECKSUM, DEFAULT_BASE_URLS, DOWNLOAD_MAX_BYTES } from './download';
export type { ChecksumEntry, DownloadOptions } from './download';
