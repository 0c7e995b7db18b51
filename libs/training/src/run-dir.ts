/**
 * Run folders: a fresh default name per run, refusal to write a run into a folder that holds another one, and the
 * run's config.json. Two runs in one folder used to mix silently (metrics.jsonl held steps 1, 10, 20, 1, 5, both
 * runs' checkpoints stayed, and `eval` scored the old one). The commands that own a run folder (`train`, `local`)
 * call prepareRunDir before anything is written. Not a runnable file; tested in run-dir.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainConfig } from '@gan/config';

/**
 * What a run writes into its folder (trainer.ts); any of them marks the folder as holding a run, and --overwrite
 * removes them (tb/ too: TensorBoard would otherwise draw the old run's events files under the new run's).
 */
export const RUN_FILES = ['config.json', 'metrics.jsonl', 'checkpoints', 'real_samples.png', 'tb'] as const;
const SAMPLE = /^fake_samples_step_\d+\.png$/;

/**
 * A fresh folder under `root` named after the UTC start time, `runs/20261202-204012` (then `-2`, `-3`, … if taken),
 * as PyTorch's SummaryWriter names its default log folder: runs never share one by accident.
 */
export function defaultRunDir(root = 'runs', now = new Date()): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p2(now.getUTCMonth() + 1)}${p2(now.getUTCDate())}-${p2(now.getUTCHours())}${p2(now.getUTCMinutes())}${p2(now.getUTCSeconds())}`;
  let dir = path.join(root, stamp);
  for (let k = 2; fs.existsSync(dir); k++) dir = path.join(root, `${stamp}-${k}`);
  return dir;
}

/** The run files present in `dir` (empty when it is absent or holds no run). */
export function runFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  if (!fs.statSync(dir).isDirectory()) throw new Error(`--out ${dir} is a file, not a folder`);
  return fs.readdirSync(dir).filter((f) => (RUN_FILES as readonly string[]).includes(f) || SAMPLE.test(f)).sort();
}

/**
 * Makes `out` ready for a run: refuses one that holds another run unless the run is being resumed from it
 * (`resume` set) or `overwrite` is true, in which case that run's files (and only those) are removed first.
 * Throws a one-line error naming what is there and the ways out.
 */
export function prepareRunDir(out: string, opts: { resume: string | null; overwrite: boolean }): void {
  const found = runFilesIn(out);
  if (found.length === 0 || opts.resume) return;
  if (!opts.overwrite) {
    throw new Error(
      `--out ${out} holds another run (${found.slice(0, 3).join(', ')}${found.length > 3 ? ', …' : ''}): ` +
        `continue it with --resume ${out}, replace it with --overwrite, or pick another --out`,
    );
  }
  for (const f of found) fs.rmSync(path.join(out, f), { recursive: true, force: true });
}

/** gan-train's version, from the package.json of the installed product above this file ('unknown' if none). */
export function productVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const f = path.join(dir, 'package.json');
    if (fs.existsSync(f)) {
      const pkg = JSON.parse(fs.readFileSync(f, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'gan-train') return pkg.version ?? 'unknown';
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

/** What config.json records besides the config: enough to tell later how a run was made. */
export interface RunInfo {
  /** gan-train's version (package.json). */
  version: string;
  node: string;
  tfjs: string;
  /** The tfjs backend the run computed on, e.g. 'wasm'. */
  backend: string;
  worldSize: number;
}

/** Writes `<out>/config.json`: the resolved config (every field, defaults included) and RunInfo, atomically. */
export function writeRunConfig(out: string, config: TrainConfig, info: RunInfo): void {
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, 'config.json');
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ config, ...info, started: new Date().toISOString() }, null, 2) + '\n');
  fs.renameSync(tmp, file);
}
