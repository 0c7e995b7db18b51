/**
 * Where a distributed step's time goes: runs `gan-train train` (1 process) and `gan-train local --workers N` on
 * this machine and reports rank 0's median compute / all-reduce (incl. waiting for peers) / data wait / other per
 * step from metrics.jsonl, and the steps per second that makes. Run: node --import tsx bench/step-split.ts [--json]
 * [--steps 8] [--cases small:1,small:2,small:4,seed:2] [--backend wasm] [--bin bin/gan-train.mjs]
 * A case may name the collective's transport: small:2:grpc (default tcp). --bin is the gan-train to run (the GPU
 * bundle's own, .gpu/app/cli/bin/gan-train.mjs, on a lent GPU machine: tools/gpu-device-bench.sh).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (k: string, d: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const json = args.includes('--json');
const steps = Number(opt('--steps', '8'));
const cases = opt('--cases', 'small:1,small:2,small:4,seed:2').split(',');
const backend = opt('--backend', 'wasm');
const bin = opt('--bin', 'bin/gan-train.mjs');
const MODELS: Record<string, string[]> = {
  small: ['--image-size', '32', '--channels', '1', '--ngf', '64', '--ndf', '32', '--batch-size', '64'],
  seed: ['--image-size', '64', '--channels', '3', '--ngf', '128', '--ndf', '64', '--batch-size', '16'],
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const c of cases) {
  const [model, n, transport = 'tcp'] = c.split(':');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'split-'));
  const common = [...MODELS[model], '--dataset', 'shapes', '--steps', String(model === 'seed' ? Math.min(steps, 4) : steps),
    '--log-every', '1', '--sample-every', '0', '--checkpoint-every', '0', '--backend', backend, '--out', out];
  const dist = ['--op-timeout-ms', '120000', '--heartbeat-ms', '1000', '--hash-every', '0', '--transport', transport];
  const cmd = n === '1' ? ['train', ...common] : ['local', '--workers', n, ...common, ...dist];
  const r = spawnSync(process.execPath, [bin, ...cmd], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) {
    console.error(`${c}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
    continue;
  }
  const rows = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).slice(1);
  const m = (k: string) => median(rows.map((x) => x[k]));
  const res = { case: `${model}/${MODELS[model][MODELS[model].length - 1]}`, backend, workers: Number(n), ...(n === '1' ? {} : { transport }), steps_per_s: 1000 / m('step_ms'), step_ms: m('step_ms'), compute_ms: m('compute_ms'), allreduce_ms: m('allreduce_ms'), data_wait_ms: m('data_wait_ms'), other_ms: m('other_ms'), steps: rows.length };
  if (json) console.log(JSON.stringify(res));
  else console.log(`${res.case} ${backend} x${n} workers${n === '1' ? '' : ` (${transport})`}: ${res.steps_per_s.toFixed(2)} steps/s, step ${res.step_ms.toFixed(0)} ms = compute ${res.compute_ms.toFixed(0)} + all-reduce/wait ${res.allreduce_ms.toFixed(0)} + data ${res.data_wait_ms.toFixed(1)} + other ${res.other_ms.toFixed(0)} (median of ${res.steps} steps)`);
  fs.rmSync(out, { recursive: true, force: true });
}
