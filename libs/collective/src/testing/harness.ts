// Spawns N test workers (testing/worker.ts) as separate processes on 127.0.0.1, wires them into a group through
// their stdin/stdout, and collects their JSON result lines. Every child is killed by PID in kill().
// Scenario and ListenOptions may each be given per rank (a function of the rank), e.g. to mix transports in a ring.
import * as esbuild from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ListenOptions } from '../index';
import type { Scenario } from './worker';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(HERE, 'worker.ts');

let bundled: string | undefined;
/**
 * The worker bundled once per test process with esbuild into node_modules/.cache (workspace libs inlined, npm
 * packages resolved from the repository's node_modules): a plain `node x.mjs` starts in ~0.1 s against ~1 s through
 * tsx, which matters with 36 processes on 2 cores. The bundle is written per process id and removed at exit.
 */
function workerArgs(): string[] {
  if (!bundled) {
    const root = path.resolve(HERE, '../../../..');
    const outfile = path.join(root, 'node_modules/.cache/gan-collective', `worker-${process.pid}.mjs`);
    esbuild.buildSync({
      entryPoints: [WORKER], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external',
      outfile, logLevel: 'error',
      plugins: [],
      alias: { '@gan/proto': path.join(root, 'libs/proto/src/index.ts'), '@gan/auth': path.join(root, 'libs/auth/src/index.ts') },
    });
    bundled = outfile;
    process.once('exit', () => fs.rmSync(outfile, { force: true }));
  }
  return [bundled];
}

export interface Rank {
  proc: ChildProcess;
  pid: number;
  address: string;
  /** its data endpoint (Collective.dataEndpoint) */
  data: unknown;
  /** how this rank pulls, as its Collective reported it ('tcp' | 'grpc') */
  transport: string;
  lines: any[];
  stderr: string[];
  /** resolves with the first line matching pred */
  waitFor(pred: (l: any) => boolean, timeoutMs: number): Promise<any>;
}

export interface Group {
  ranks: Rank[];
  kill(): void;
}

export type PerRank<T> = T | ((rank: number) => T);
const forRank = <T extends object>(v: PerRank<T>, rank: number): T => (typeof v === 'function' ? v(rank) : v);

export async function spawnGroup(n: number, scenario: PerRank<Scenario>, opts: PerRank<Partial<ListenOptions>> = {}, env: NodeJS.ProcessEnv = {}): Promise<Group> {
  const ranks: Rank[] = [];
  const group: Group = {
    ranks,
    kill() {
      for (const r of ranks) {
        if (r.proc.exitCode === null && r.proc.signalCode === null) {
          try {
            process.kill(r.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }
    },
  };
  try {
    for (let i = 0; i < n; i++) {
      const proc = spawn(process.execPath, [...workerArgs(), JSON.stringify(forRank(opts, i))], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      });
      const lines: any[] = [];
      const stderr: string[] = [];
      const waiters: { pred: (l: any) => boolean; res: (l: any) => void }[] = [];
      readline.createInterface({ input: proc.stdout! }).on('line', (t) => {
        let l: any;
        try {
          l = JSON.parse(t);
        } catch {
          l = { type: 'text', text: t };
        }
        lines.push(l);
        for (const w of [...waiters]) if (w.pred(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.res(l);
        }
      });
      readline.createInterface({ input: proc.stderr! }).on('line', (t) => stderr.push(t));
      const rank: Rank = {
        proc, pid: proc.pid!, address: '', data: undefined, transport: '', lines, stderr,
        waitFor(pred, timeoutMs) {
          const hit = lines.find(pred);
          if (hit) return Promise.resolve(hit);
          return new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`rank ${i} (pid ${proc.pid}): no matching line within ${timeoutMs} ms; got ${JSON.stringify(lines).slice(0, 500)}; stderr ${stderr.join('\n').slice(-1500)}`)), timeoutMs);
            waiters.push({ pred, res: (l) => { clearTimeout(t); res(l); } });
            proc.once('exit', () => setTimeout(() => { clearTimeout(t); rej(new Error(`rank ${i} exited before a matching line; stderr ${stderr.join('\n').slice(-1500)}`)); }, 50));
          });
        },
      };
      ranks.push(rank);
    }
    const addrs = await Promise.all(ranks.map((r) => r.waitFor((l) => l.type === 'listening', 30_000)));
    addrs.forEach((a, i) => {
      ranks[i].address = a.address;
      ranks[i].data = a.data;
      ranks[i].transport = a.transport;
    });
    ranks.forEach((r, i) => {
      r.proc.stdin!.write(JSON.stringify({ rank: i, worldSize: n, peers: ranks.map((x) => x.address), data: ranks.map((x) => x.data), generation: 1, scenario: forRank(scenario, i) }) + '\n');
    });
    return group;
  } catch (e) {
    group.kill();
    throw e;
  }
}
