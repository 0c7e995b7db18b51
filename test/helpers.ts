/**
 * Helpers for the multi-process tests: run `gan-train` as real child processes (own process group), with a hard
 * timeout, and kill every process a test started by PID when it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(ROOT, 'bin/gan-train.mjs');

/** Tiny DCGAN flags: conv shapes small enough for the CPU backends (tests never time the model). */
export const TINY_DCGAN = [
  '--dataset', 'shapes', '--image-size', '32', '--channels', '1', '--nz', '16', '--ngf', '8', '--ndf', '8',
  '--batch-size', '4', '--backend', process.env.TEST_BACKEND ?? 'wasm', '--log-every', '1',
];

const live = new Set<ChildProcess>();

/**
 * The run secret every process a test starts gets through GAN_TOKEN, as an operator would set it (tests that check
 * authentication pass their own environment). Fresh per test process.
 */
export const TEST_SECRET = randomBytes(32).toString('hex');

export interface Run {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export interface CliOptions {
  timeoutMs: number;
  env?: Record<string, string>;
  cwd?: string;
  /** run inside this network namespace: `ip netns exec NS node …` (ip execs node, so the PID is node's) */
  netns?: string;
  /** a coordinator or worker exits when this test process goes, even SIGKILLed (stdin pipe, as `local` does) */
  exitWithParent?: boolean;
}

/** Starts `gan-train ARGS` (in `cwd`, default the repo); resolves when it exits; SIGKILLed (group) after timeoutMs. */
export function startCli(args: string[], opts: CliOptions): Run {
  const argv = [process.execPath, BIN, ...args];
  if (opts.netns) argv.unshift('ip', 'netns', 'exec', opts.netns);
  const env: NodeJS.ProcessEnv = { ...process.env, GAN_TOKEN: TEST_SECRET, ...opts.env };
  if (opts.exitWithParent) env.GAN_EXIT_WITH_PARENT = '1';
  const proc = spawn(argv[0], argv.slice(1), {
    cwd: opts.cwd ?? ROOT, detached: true, stdio: [opts.exitWithParent ? 'pipe' : 'ignore', 'pipe', 'pipe'], env,
  });
  live.add(proc);
  const run: Run = { proc, stdout: '', stderr: '', done: null as never };
  proc.stdout!.on('data', (d) => (run.stdout += d));
  proc.stderr!.on('data', (d) => (run.stderr += d));
  const timer = setTimeout(() => killTree(proc), opts.timeoutMs);
  run.done = new Promise((resolve) =>
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve({ code, signal, stdout: run.stdout, stderr: run.stderr });
    }));
  return run;
}

export function runCli(args: string[], opts: CliOptions) {
  return startCli(args, opts).done;
}

export function killTree(p: ChildProcess, sig: NodeJS.Signals = 'SIGKILL'): void {
  if (!p.pid) return;
  try {
    process.kill(-p.pid, sig);
  } catch {
    /* gone */
  }
}

/** Kills everything still running (call from `after`). */
export function killAll(): void {
  for (const p of live) killTree(p);
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gan-${prefix}-`));
}

/** True while a process with this PID exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** JSON log lines of a process's stderr. */
export function logLines(stderr: string): Record<string, any>[] {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return {};
    }
  });
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The step of the last row of `<out>/metrics.jsonl` (0 while there is none, or while a row is half written). */
export function lastStep(out: string): number {
  const f = path.join(out, 'metrics.jsonl');
  if (!fs.existsSync(f)) return 0;
  const lines = fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean);
  try {
    return lines.length ? JSON.parse(lines[lines.length - 1]).step : 0;
  } catch {
    return 0;
  }
}
