// A directory of numbered checkpoints, `ckpt_<step, 6+ digits>.safetensors`: atomic saves with retention of the
// newest K, and loading that skips corrupt files (with a warning) so a crash or bit rot in the newest checkpoint
// costs one checkpoint interval, not the run. Tested by libs/checkpoint/src/checkpoint-manager.test.ts
// (`node tools/run-tests.mjs libs/checkpoint`).
import fs from 'node:fs/promises';
import path from 'node:path';
import { TEMP_MARKER, fsyncDir, isTempFile } from './atomic-write';
import {
  CheckpointError, readSafetensors, writeSafetensors,
  type NamedTensor, type SafetensorsFile,
} from './safetensors';

/** The part of a pino-style logger the manager uses (pino, console and the training Log all fit). */
export interface CheckpointLogger {
  warn(obj: object, msg?: string): void;
}

export interface CheckpointManagerOptions {
  /** How many of the newest checkpoints to keep after each save (at least 1). */
  keep: number;
  logger?: CheckpointLogger;
}

export interface CheckpointInfo {
  step: number;
  path: string;
}

export interface LoadedCheckpoint extends SafetensorsFile {
  path: string;
  /** Step from the file name (null for a file not named ckpt_<step>.safetensors). */
  step: number | null;
}

const NAME = /^ckpt_(\d+)\.safetensors$/;

/** `ckpt_000100.safetensors` (at least 6 digits; larger steps just get longer). */
export function checkpointFileName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`checkpoint step must be a non-negative integer, got ${step}`);
  return `ckpt_${String(step).padStart(6, '0')}.safetensors`;
}

export class CheckpointManager {
  readonly dir: string;
  readonly keep: number;
  private readonly logger?: CheckpointLogger;

  /** Does no I/O: the directory is created by the first save. */
  constructor(dir: string, opts: CheckpointManagerOptions) {
    if (!Number.isSafeInteger(opts.keep) || opts.keep < 1) throw new Error(`keep must be a positive integer, got ${opts.keep}`);
    this.dir = dir;
    this.keep = opts.keep;
    this.logger = opts.logger;
  }

  /**
   * Writes checkpoint `step` atomically (metadata gets `step` unless given), then deletes all but the newest
   * `keep` checkpoints and any temp files left by an earlier crashed save. Returns the file's path.
   */
  async save(step: number, tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Promise<string> {
    const file = path.join(this.dir, checkpointFileName(step));
    await fs.mkdir(this.dir, { recursive: true });
    await writeSafetensors(file, tensors, { step: String(step), ...metadata });
    await this.prune();
    return file;
  }

  /** Checkpoints in the directory, oldest step first; [] when the directory does not exist. */
  async list(): Promise<CheckpointInfo[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: CheckpointInfo[] = [];
    for (const name of names) {
      const m = NAME.exec(name);
      if (m) out.push({ step: Number(m[1]), path: path.join(this.dir, name) });
    }
    return out.sort((a, b) => a.step - b.step);
  }

  /**
   * The newest checkpoint that validates (checksum required), or null when the directory holds none.
   * Corrupt ones are skipped with a logger warning; if every one is corrupt that is an error.
   */
  async loadLatest(): Promise<LoadedCheckpoint | null> {
    const all = await this.list();
    const problems: string[] = [];
    for (const info of all.reverse()) {
      try {
        const file = await readSafetensors(info.path, { requireChecksum: true });
        return { ...file, path: info.path, step: info.step };
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw e;
        problems.push(e.message);
        this.logger?.warn({ path: info.path, error: e.message }, `skipping corrupt checkpoint: ${e.message}`);
      }
    }
    if (problems.length) {
      throw new CheckpointError(`no valid checkpoint in ${this.dir}: all ${problems.length} are corrupt (newest: ${problems[0]})`, this.dir);
    }
    return null;
  }

  /**
   * A directory → its newest valid checkpoint (error when it has none); a file → that file (error if corrupt;
   * its checksum is verified when present, so plain safetensors files from other tools load too).
   */
  async load(pathOrDir: string): Promise<LoadedCheckpoint> {
    let stat;
    try {
      stat = await fs.stat(pathOrDir);
    } catch {
      throw new CheckpointError(`checkpoint ${pathOrDir} does not exist`, pathOrDir);
    }
    if (stat.isDirectory()) {
      const mgr = path.resolve(pathOrDir) === path.resolve(this.dir) ? this : new CheckpointManager(pathOrDir, { keep: this.keep, logger: this.logger });
      const latest = await mgr.loadLatest();
      if (!latest) throw new CheckpointError(`no checkpoints (ckpt_*.safetensors) in ${pathOrDir}`, pathOrDir);
      return latest;
    }
    const file = await readSafetensors(pathOrDir);
    const m = NAME.exec(path.basename(pathOrDir));
    return { ...file, path: pathOrDir, step: m ? Number(m[1]) : null };
  }

  /** Deletes all but the newest `keep` checkpoints and stray temp files of crashed saves. */
  private async prune(): Promise<void> {
    const all = await this.list();
    const doomed = all.slice(0, Math.max(0, all.length - this.keep)).map((c) => c.path);
    // Temp files of this process may belong to a save still in flight; other processes' are crash leftovers.
    const ours = `${TEMP_MARKER}${process.pid}-`;
    for (const name of await fs.readdir(this.dir)) {
      if (isTempFile(name) && !name.includes(ours) && NAME.test(name.slice(1, name.indexOf(TEMP_MARKER)))) {
        doomed.push(path.join(this.dir, name));
      }
    }
    if (!doomed.length) return;
    for (const p of doomed) await fs.rm(p, { force: true });
    await fsyncDir(this.dir);
  }
}
