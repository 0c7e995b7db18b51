/**
 * @gan/training: the training loop shared by the single-process trainer and the distributed workers, run-state
 * (checkpoint) serialization, seeded noise, evaluation and the PyTorch export. Free of gRPC: collectives come in through `Reducer`.
 */
export { train, loadResumeCheckpoint, weightsDigest, ReplicaMismatchError } from './trainer';
export type { TrainOptions, TrainResult, StepRecord, Log } from './trainer';
export { LocalReducer, PeerFailure } from './reducer';
export type { Reducer, Group, Membership } from './reducer';
export { batchNoise, mixSeed, NOISE_STREAM } from './noise';
export { gpEpsilon } from './gp-epsilon';
export { globalRows, rowsNoise } from './global-rows';
export { fillNormal, zigguratNormal, type U32Source } from './ziggurat';
export { modeCoverage } from './mode-coverage';
export type { ModeCoverage } from './mode-coverage';
export { evaluateRun, formatEvalResult } from './evaluate';
export { exportRun, EXPORT_FORMATS } from './export-torch';
export type { ExportFormat, ExportResult } from './export-torch';
export { loadRun } from './load-run';
export { sampleRun } from './sample-run';
export type { SampleOptions, SampleResult } from './sample-run';
export { defaultRunDir, prepareRunDir, runFilesIn, productVersion, RUN_FILES } from './run-dir';
export type { LoadedRun } from './load-run';
export { criticStep, trainStep } from './train-step';
export type { CriticOutcome, StepOptions, StepOutcome } from './train-step';
export { observeUnrolledD, type UnrollBatch } from './unrolled-d';
export type { EvalOptions, EvalResult } from './evaluate';
export { modelConfigOf, serializeState, restoreState, checkpointConfig, assertSameArchitecture, CHECKPOINT_FORMAT } from './run-state';
export type { TrainState, LoadedCheckpoint } from './run-state';
