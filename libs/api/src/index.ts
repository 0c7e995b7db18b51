/**
 * gan-train's programmatic API, the package's main export (`import { train, launchLocal } from 'gan-train'`): the
 * CLI's commands with typed options instead of flags. Options are TrainConfig fields by their camelCase names
 * (`gan-train <command> --help` lists them as flags); missing ones take the model's defaults, unknown or invalid ones
 * throw a ConfigError naming them. Example (README "API", run by test/package.test.ts):
 *   const r = await train({ model: 'mlp', dataset: 'ring8', steps: 200, out: 'runs/api' });
 *   console.log(await evaluate(r.out));
 */
import { initBackend, threadsFor, type BackendRequest } from '@gan/backend';
import { DISTRIBUTED_FLAGS, parseArgs, validateConfig, type FieldSpec, type TrainConfig } from '@gan/config';
import { runCoordinator as coordinatorCommand, runLauncher, runWorker as workerCommand } from '@gan/distributed';
import { createLogger, type Logger } from '@gan/telemetry';
import * as training from '@gan/training';

export type { TrainConfig, Logger };
export type { EvalResult, ExportResult, SampleOptions, SampleResult, StepRecord, TrainResult } from '@gan/training';
export { ConfigError } from '@gan/config';

/** Any TrainConfig fields; the rest take the defaults of the chosen model. */
export type TrainOptions = Partial<TrainConfig>;

/** Hooks of a training run in this process. */
export interface TrainHooks {
  /** Where log lines go (default: pino JSON on stderr, role 'trainer'). */
  logger?: Logger;
  /** Called after every step with its losses and timings. */
  onStep?: (r: training.StepRecord) => void | Promise<void>;
  /** Consulted after every step: true ends the run after a final checkpoint. */
  stopRequested?: () => boolean;
}

/** A command's own flags (not TrainConfig fields), by their camelCase names, e.g. { tokenFile, logFormat }. */
export type CommandFlags = Record<string, string | number | boolean | null>;

function resolveConfig(options: TrainOptions): TrainConfig {
  return validateConfig(options);
}

/** The command's flag defaults overridden by `flags`; an unknown flag is refused with the known ones named. */
function commandFlags(command: string, specs: Record<string, FieldSpec>, flags: CommandFlags): Record<string, unknown> {
  for (const k of Object.keys(flags)) {
    if (!(k in specs)) throw new Error(`${command}: unknown flag '${k}' (known: ${Object.keys(specs).join(', ')})`);
  }
  return { ...parseArgs([], { allow: [], extra: specs }).extra, ...flags };
}

/** Trains in this process, as `gan-train train` does, and resolves when the run ends. */
export async function train(options: TrainOptions = {}, hooks: TrainHooks = {}): Promise<training.TrainResult> {
  const config = resolveConfig(options);
  const logger = hooks.logger ?? createLogger({ role: 'trainer' });
  config.out ??= training.defaultRunDir();
  training.prepareRunDir(config.out, { resume: config.resume, overwrite: config.overwrite });
  await initBackend(config.backend, logger, { threads: threadsFor(config.threads) });
  return training.train({ config, logger, onStep: hooks.onStep, stopRequested: hooks.stopRequested });
}

/**
 * A coordinator and `options.workers` worker processes on this machine, as `gan-train local` (like torchrun
 * --nproc_per_node). Resolves to the exit code (0 when the run finished).
 */
export async function launchLocal(options: TrainOptions & { workers: number }, flags: CommandFlags = {}): Promise<number> {
  return runLauncher(resolveConfig(options), commandFlags('local', DISTRIBUTED_FLAGS.local, flags));
}

/** The coordinator of a multi-machine run in this process, as `gan-train coordinator`. Resolves to the exit code. */
export async function runCoordinator(options: TrainOptions, flags: CommandFlags = {}): Promise<number> {
  return coordinatorCommand(resolveConfig(options), commandFlags('coordinator', DISTRIBUTED_FLAGS.coordinator, flags));
}

/** One worker of a multi-machine run in this process, as `gan-train worker`. Resolves to the exit code. */
export async function runWorker(options: TrainOptions, flags: CommandFlags = {}): Promise<number> {
  return workerCommand(resolveConfig(options), commandFlags('worker', DISTRIBUTED_FLAGS.worker, flags));
}

/** Options of the commands that read a run. */
export interface RunReadOptions {
  /** Compute backend (default auto). */
  backend?: BackendRequest;
  logger?: Logger;
}

/** Scores a run's newest checkpoint, as `gan-train eval`. */
export async function evaluate(run: string, opts: RunReadOptions & training.EvalOptions = {}): Promise<training.EvalResult> {
  const { backend, logger: given, ...evalOpts } = opts;
  const logger = given ?? createLogger({ role: 'eval' });
  await initBackend(backend ?? 'auto', logger);
  return training.evaluateRun(run, logger, evalOpts);
}

/** A PNG of G's samples from a run's newest checkpoint, as `gan-train sample`. */
export async function sample(run: string, opts: RunReadOptions & training.SampleOptions = {}): Promise<training.SampleResult> {
  const logger = opts.logger ?? createLogger({ role: 'sample' });
  await initBackend(opts.backend ?? 'auto', logger);
  return training.sampleRun(run, logger, opts);
}

/** A run's newest checkpoint as a PyTorch state_dict (safetensors), as `gan-train export`. */
export async function exportTorch(run: string, opts: RunReadOptions & { out?: string } = {}): Promise<training.ExportResult> {
  const logger = opts.logger ?? createLogger({ role: 'export' });
  await initBackend(opts.backend && opts.backend !== 'auto' ? opts.backend : 'cpu', logger);
  return training.exportRun(run, 'torch', logger, { out: opts.out });
}
