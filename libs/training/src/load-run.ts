/**
 * Opens a run for the commands that read one (`eval`, `export`): its newest valid checkpoint, loaded into a
 * freshly built model of the checkpoint's own config. Not a runnable file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildGan, createOptimizer, disposeGan } from '@gan/model';
import { CheckpointManager } from '@gan/checkpoint';
import type { TrainConfig } from '@gan/config';
import { checkpointConfig, modelConfigOf, restoreState, type LoadedCheckpoint, type TrainState } from './run-state';
import type { Log } from './trainer';

export interface LoadedRun {
  /** The restored state; the caller disposes `st.gan` (disposeGan). */
  st: TrainState;
  config: TrainConfig;
  /** The checkpoint file that was loaded. */
  path: string;
}

/**
 * `run`: a run directory (its checkpoints/ folder is used), a checkpoints folder, or one checkpoint file.
 * Throws a one-line error when nothing valid is there.
 */
export async function loadRun(run: string, logger: Log): Promise<LoadedRun> {
  const target = path.resolve(run);
  if (!fs.existsSync(target)) throw new Error(`run directory ${run} does not exist`);
  const ckDir = fs.existsSync(path.join(target, 'checkpoints')) ? path.join(target, 'checkpoints') : target;
  const mgr = new CheckpointManager(fs.statSync(ckDir).isFile() ? path.dirname(ckDir) : ckDir, { keep: 1_000_000, logger });
  const ckpt = (await mgr.load(ckDir)) as unknown as LoadedCheckpoint;
  const where = `checkpoint ${ckpt.path ?? ckDir}`;
  const config = checkpointConfig(ckpt, where);
  const gan = buildGan(modelConfigOf(config), config.seed);
  const opt = { optimizer: config.optimizer };
  const st: TrainState = { gan, optG: createOptimizer(gan.g, opt), optD: createOptimizer(gan.d, opt), step: 0 };
  try {
    restoreState(st, ckpt, where);
  } catch (e) {
    disposeGan(gan);
    throw e;
  }
  return { st, config, path: ckpt.path ?? ckDir };
}
