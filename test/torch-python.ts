/**
 * Finds the Python that has PyTorch (Debian's python3-torch: /usr/bin/python3, or $GAN_TORCH_PYTHON) and runs
 * the scripts in test/torch/ with a hard timeout. Where none exists the PyTorch tests skip loudly, except in CI
 * (CI=true), where a missing PyTorch is a failure: .ci/run installs it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './helpers';

export const TORCH_DIR = path.join(ROOT, 'test', 'torch');

let probed: { python: string | null; why: string } | null = null;

/** The interpreter to use, or null with the reason. Probed once per process. */
export function torchPython(): { python: string | null; why: string } {
  if (probed) return probed;
  const candidates = process.env.GAN_TORCH_PYTHON ? [process.env.GAN_TORCH_PYTHON] : ['/usr/bin/python3', 'python3'];
  const tried: string[] = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
    if (r.status === 0) return (probed = { python: py, why: `${py}: torch ${r.stdout.trim()}` });
    tried.push(`${py}: ${(r.error?.message ?? r.stderr.trim().split('\n').at(-1) ?? 'failed').slice(0, 200)}`);
  }
  return (probed = { python: null, why: `no Python with torch and numpy (${tried.join('; ')}); install Debian's python3-torch` });
}

/**
 * Skips `t` loudly when PyTorch is missing (returns false); in CI a missing PyTorch fails the test instead.
 * @param t the node:test context
 */
export function requireTorch(t: { skip(msg: string): void }): boolean {
  const { python, why } = torchPython();
  if (python) return true;
  if (process.env.CI) throw new Error(`PyTorch reference tests must run in CI: ${why}`);
  process.stderr.write(`\n#### SKIPPED: the PyTorch reference tests did not run: ${why} ####\n\n`);
  t.skip(why);
  return false;
}

/** Runs test/torch/<script> with args; throws with its stderr on failure or after timeoutMs (SIGKILL). */
export function runTorchScript(script: string, args: string[], timeoutMs: number): string {
  const { python, why } = torchPython();
  if (!python) throw new Error(why);
  const r = spawnSync(python, [path.join(TORCH_DIR, script), ...args], {
    encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, GAN_TORCH_THREADS: process.env.GAN_TORCH_THREADS ?? '2' },
  });
  if (r.error) throw new Error(`${script}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${script} exited with ${r.status ?? r.signal}: ${r.stderr.trim().slice(-2000)}`);
  return r.stdout;
}
