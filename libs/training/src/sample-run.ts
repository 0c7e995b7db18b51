/**
 * `gan-train sample`: a picture of G's samples from a run's newest valid checkpoint. Without a seed it draws the
 * fixed noise the trainer draws its fake_samples grids from, so it reproduces the run's last grid; with one it
 * draws fresh noise from that seed. Not a runnable file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openDataset } from '@gan/data';
import { disposeGan } from '@gan/model';
import { loadRun } from './load-run';
import { defaultSampleCount, sampleNoiseFor, writeSampleFile } from './sample-file';
import type { Log } from './trainer';

export interface SampleOptions {
  /** Samples to draw (default: 64 for image models, 2,500 points for 2-D ones). */
  n?: number;
  /** Noise seed; null or absent: the run's own fixed sample noise. */
  seed?: number | null;
  /** The PNG to write (default: in the run folder, samples_step_NNNNNN[_seed_S].png). */
  out?: string;
}

export interface SampleResult {
  path: string;
  /** The checkpoint's step. */
  step: number;
  n: number;
  seed: number | null;
  /** The checkpoint that was loaded. */
  checkpoint: string;
}

/** The run folder a `--run` argument names: the folder itself, or the one holding its checkpoints (or file). */
function runFolderOf(run: string): string {
  const p = path.resolve(run);
  if (fs.statSync(p).isFile()) return path.dirname(path.dirname(p));
  return fs.existsSync(path.join(p, 'checkpoints')) ? p : path.dirname(p);
}

export async function sampleRun(run: string, logger: Log, opts: SampleOptions = {}): Promise<SampleResult> {
  const { st, config, path: checkpoint } = await loadRun(run, logger);
  try {
    const n = opts.n ?? defaultSampleCount(config);
    if (!Number.isInteger(n) || n < 2) throw new Error(`sample: --n must be an integer ≥ 2 (BatchNorm needs a batch), got ${n}`);
    const seed = opts.seed ?? null;
    const file = path.resolve(opts.out ?? path.join(runFolderOf(run), `samples_step_${String(st.step).padStart(6, '0')}${seed === null ? '' : `_seed_${seed}`}.png`));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // The 2-D sets' mode centres come with the (synthetic, instant) dataset; image runs need no data at all.
    const modes = config.model === 'mlp'
      ? (await openDataset({ name: config.dataset, root: config.dataRoot ?? undefined, imageSize: config.imageSize, channels: config.channels, seed: config.seed, logger })).modes
      : undefined;
    await writeSampleFile(st.gan, config, sampleNoiseFor(config, n, seed), n, file, modes);
    logger.info({ path: file, step: st.step, n, seed, checkpoint }, 'samples written');
    return { path: file, step: st.step, n, seed, checkpoint };
  } finally {
    disposeGan(st.gan);
  }
}
