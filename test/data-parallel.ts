/**
 * The runs the data-parallel tests compare and what they compare them by: 2 workers × b against 1 process × 2b, a run
 * resumed halfway against one straight through, the tensors of a run's newest checkpoint, and the largest difference
 * between two such sets. Not a test file (imported by objectives, optimizer-spectral-norm and unrolled).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '@gan/checkpoint';
import { logLines, runCli } from './helpers';

/** Every tensor of a run's newest checkpoint (`keep` picks names): weights, `buffers.*` and optimiser state. */
export async function lastCheckpoint(out: string, keep: (name: string) => boolean = () => true): Promise<Map<string, Float32Array>> {
  const d = path.join(out, 'checkpoints');
  const last = fs.readdirSync(d).filter((f) => /^ckpt_\d+\.safetensors$/.test(f)).sort().at(-1);
  assert.ok(last, `no checkpoint in ${d}`);
  const { tensors } = await readSafetensors(path.join(d, last));
  return new Map([...tensors].filter(([k]) => keep(k)).map(([k, v]) => [k, v.data as Float32Array]));
}

/** Trainable weights only (`g.*`, `d.*`). */
export const isWeight = (name: string): boolean => /^[gd]\./.test(name);

/** max |a − b| over the tensors of `a` that `keys` picks; each must exist in `b` with the same length. */
export function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>, keys: (name: string) => boolean = () => true): number {
  let m = 0;
  for (const [k, v] of a) {
    if (!keys(k)) continue;
    const u = b.get(k);
    assert.ok(u && u.length === v.length, `${k}: missing or resized`);
    for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] - u[i]));
  }
  return m;
}

/**
 * `common` (every flag but --batch-size and --out) trained by `gan-train local --workers 2` at batch 4 (replicas
 * hash-checked every step; both must finish with one digest) and by `gan-train train` at batch 8, in dir/dist and
 * dir/single.
 */
export async function twoWorkersAndOne(dir: string, common: string[]): Promise<{ dist: string; single: string }> {
  const dist = path.join(dir, 'dist');
  const single = path.join(dir, 'single');
  const d = await runCli(['local', '--workers', '2', ...common, '--batch-size', '4', '--hash-every', '1', '--out', dist], { timeoutMs: 180_000 });
  assert.equal(d.code, 0, d.stderr.slice(-3000));
  const digests = logLines(d.stderr).filter((l) => l.msg === 'worker finished').map((l) => l.digest);
  assert.equal(digests.length, 2, d.stderr.slice(-3000));
  assert.equal(new Set(digests).size, 1, 'replicas differ');
  const s = await runCli(['train', ...common, '--batch-size', '8', '--out', single], { timeoutMs: 120_000 });
  assert.equal(s.code, 0, s.stderr.slice(-3000));
  return { dist, single };
}

/** `flags` (with --batch-size, without --steps and --out) trained 4 steps straight, and 2 then resumed to 4. */
export async function straightAndResumed(dir: string, flags: string[]): Promise<{ straight: string; split: string }> {
  const straight = path.join(dir, 'straight');
  const split = path.join(dir, 'split');
  for (const args of [['--steps', '4', '--out', straight], ['--steps', '2', '--out', split], ['--steps', '4', '--out', split, '--resume', path.join(split, 'checkpoints')]]) {
    const r = await runCli(['train', ...flags, ...args], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
  }
  return { straight, split };
}
