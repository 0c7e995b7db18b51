// The README's quality table for the 2-D toy sets: trains the MLP GAN with each objective on ring8 and grid25, in
// one process and with N workers (`gan-train local`, per-worker batch = the default batch / N, so the global batch
// and so the maths are the same), then scores every run with `gan-train eval` (VEEGAN protocol: modes captured,
// share of high-quality samples within 3σ of a mode). Everything runs through the CLI a user runs.
//
// Run: node --import tsx bench/quality.ts [--datasets ring8,grid25] [--losses non-saturating,minimax,hinge,wgan,wgan-gp,feature-matching,spectral-norm,unrolled]
//      [--workers 1,4] [--seeds 1] [--jobs 2] [--steps N] [--out DIR] [--json]
//   --steps  override the MLP's default step count (default: gan-train's own default for --model mlp)
//   --jobs   runs at the same time (each run is one process, or N workers + a coordinator)
//   --out    where the runs go (default: a fresh folder under the OS temp dir; kept, so sample plots can be looked at)
// Prints a markdown table (or one JSON line per run with --json). Quality is reported, never asserted here; the
// default's bar is asserted by test/ring8-quality.test.ts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultsFor } from '@gan/config';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'bin', 'gan-train.mjs');

/** The flags each objective is run with: the paper's settings where the objective comes from one. */
const OBJECTIVES: Record<string, string[]> = {
  'non-saturating': [],
  minimax: ['--loss', 'minimax'],
  hinge: ['--loss', 'hinge'],
  // Arjovsky et al.: clip 0.01, n_critic 5, RMSprop at lr 5e-5.
  wgan: ['--loss', 'wgan', '--clip', '0.01', '--n-critic', '5', '--optimizer', 'rmsprop', '--lr', '5e-5'],
  // Gulrajani et al.'s toy settings: λ 10, n_critic 5, Adam lr 1e-4 with β1 0, β2 0.9.
  'wgan-gp': ['--loss', 'wgan-gp', '--gp-weight', '10', '--n-critic', '5', '--lr', '1e-4', '--beta1', '0', '--beta2', '0.9'],
  'feature-matching': ['--feature-matching'],
  'spectral-norm': ['--spectral-norm'],
  // Metz et al. unrolled 5-10 D steps on their 2-D mixtures; first-order variant here (README "Objectives").
  unrolled: ['--unrolled', '5'],
};

interface Row {
  dataset: string;
  loss: string;
  workers: number;
  seed: number;
  flags: string[];
  modes?: number;
  of?: number;
  high_quality?: number;
  seconds?: number;
  error?: string;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const list = (name: string, def: string): string[] => arg(name, def).split(',').map((s) => s.trim()).filter(Boolean);

function run(args: string[], log: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const err = fs.createWriteStream(log);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.pipe(err);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
  });
}

async function one(r: Row, out: string, steps: string | null): Promise<Row> {
  const dir = path.join(out, `${r.dataset}-${r.loss}-w${r.workers}-s${r.seed}`);
  const batch = defaultsFor('mlp').batchSize / r.workers;
  const train = [
    ...(r.workers > 1 ? ['local', '--workers', String(r.workers)] : ['train']),
    '--model', 'mlp', '--dataset', r.dataset, '--seed', String(r.seed), '--batch-size', String(batch),
    ...(steps ? ['--steps', steps] : []), ...r.flags, '--log-every', '1000', '--sample-every', '2000', '--out', dir,
  ];
  const t0 = performance.now();
  const t = await run(train, `${dir}.log`);
  const seconds = (performance.now() - t0) / 1000;
  if (t.code !== 0) return { ...r, seconds, error: `train exited ${t.code} (see ${dir}.log)` };
  const e = await run(['eval', '--run', dir, '--json'], `${dir}.eval.log`);
  if (e.code !== 0) return { ...r, seconds, error: `eval exited ${e.code}` };
  const s = JSON.parse(e.stdout.trim().split('\n').at(-1)!) as { modes: number; of: number; high_quality: number };
  return { ...r, seconds, modes: s.modes, of: s.of, high_quality: s.high_quality };
}

async function main(): Promise<void> {
  const out = arg('out', fs.mkdtempSync(path.join(os.tmpdir(), 'gan-quality-')));
  fs.mkdirSync(out, { recursive: true });
  const steps = process.argv.includes('--steps') ? arg('steps', '') : null;
  const json = process.argv.includes('--json');
  const rows: Row[] = [];
  for (const dataset of list('datasets', 'ring8,grid25')) {
    for (const loss of list('losses', Object.keys(OBJECTIVES).join(','))) {
      if (!OBJECTIVES[loss]) throw new Error(`unknown loss '${loss}': one of ${Object.keys(OBJECTIVES).join(', ')}`);
      for (const workers of list('workers', '1,4').map(Number)) {
        for (const seed of list('seeds', '1').map(Number)) rows.push({ dataset, loss, workers, seed, flags: OBJECTIVES[loss] });
      }
    }
  }
  const jobs = Math.max(1, Number(arg('jobs', '2')));
  const done: Row[] = new Array(rows.length);
  let next = 0;
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (next < rows.length) {
      const i = next++;
      done[i] = await one(rows[i], out, steps);
      if (json) process.stdout.write(JSON.stringify(done[i]) + '\n');
      else process.stderr.write(`done: ${JSON.stringify(done[i])}\n`);
    }
  }));
  if (json) return;
  const mlp = defaultsFor('mlp');
  process.stdout.write(`MLP GAN, gan-train's MLP defaults (lr ${mlp.lr}, global batch ${mlp.batchSize}, ${steps ?? mlp.steps} steps) unless the flags say otherwise; runs in ${out}\n\n`);
  process.stdout.write('| dataset | objective (flags) | workers | seed | modes | high quality | wall s |\n|---|---|---|---|---|---|---|\n');
  for (const r of done) {
    const q = r.error ? r.error : `${r.modes}/${r.of} | ${(100 * r.high_quality!).toFixed(1)} %`;
    process.stdout.write(`| ${r.dataset} | ${r.loss}${r.flags.length ? ` (\`${r.flags.join(' ')}\`)` : ''} | ${r.workers} | ${r.seed} | ${r.error ? `${q} | -` : q} | ${r.seconds!.toFixed(0)} |\n`);
  }
}

await main();
