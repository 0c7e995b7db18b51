// Public API of @gan/checkpoint: safetensors files (atomic write, validated read with a data checksum) and a
// directory of numbered checkpoints with retention and corrupt-file fallback. No TF.js, no gRPC.
export {
  CheckpointError, CHECKSUM_KEY, encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors,
  type Dtype, type NamedTensor, type ReadOptions, type SafetensorsFile, type StoredTensor, type TensorData,
} from './safetensors';
export {
  CheckpointManager, checkpointFileName,
  type CheckpointInfo, type CheckpointLogger, type CheckpointManagerOptions, type LoadedCheckpoint,
} from './checkpoint-manager';
export { writeFileAtomic } from './atomic-write';
