/**
 * `gan-train local --workers N`: starts a coordinator and N workers on this machine as separate processes (like
 * `torchrun --nproc_per_node`), draws one progress bar from the coordinator's status, turns Ctrl-C into an
 * orderly shutdown with a final checkpoint, and exits non-zero if any process failed.
 *
 * Children get their own process group (Ctrl-C reaches only the launcher, which decides) and a stdin pipe (they
 * exit if the launcher dies). They get the launcher's resolved config as flags (so a --config file is read once,
 * here) and always log JSON (`--log-format=json`): the launcher reads their lines and prints them in its own
 * --log-format (pretty on a terminal by default); on a terminal only warnings and errors are shown, above the bar.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RunSecret } from '@gan/auth';
import { configToArgs, envVarsOf, flagName, type TrainConfig } from '@gan/config';
import { createLogger, logLineRenderer, ProgressBar, terminalLine } from '@gan/telemetry';
import { availableCores, threadsPerWorker } from '@gan/backend';
import { defaultRunDir, prepareRunDir } from '@gan/training';
import { call, coordinatorClient } from './rpc';
import { credentialsFromFlags } from './credentials-from-flags';
import { parseHttpAddress } from './coordinator-http';

/**
 * grpc-js allocates a fresh buffer per message; with glibc's default thresholds each 1 MiB block goes back to the
 * kernel on free and every message pays page faults (bench/allreduce.ts measured 34-38 ms against 5 ms per 124 MB).
 * Workers started here keep freed memory instead; set the same variable for workers you start yourself.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=2147483647:glibc.malloc.top_pad=67108864';

/** Dropped from the children's environment: every variable of the coordinator's and workers' environment contract (GAN_TOKEN is set anew). */
const CHILD_ENV_DROPPED = new Set([...envVarsOf('coordinator'), ...envVarsOf('worker')]);

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/gan-train.mjs');

interface Child {
  name: string;
  proc: ChildProcess;
  exit: Promise<number>;
}

/** How the launcher shows its children's stderr: which lines (filterLogs: warnings and errors only) and in what format. */
interface Relay {
  filterLogs: boolean;
  render: (line: string) => string;
}

function start(name: string, args: string[], secret: RunSecret, relay: Relay, onLine?: (line: string) => void): Child {
  // The children's rendezvous is on their command line: none of the orchestrators' GAN_* contract (GAN_WORKERS,
  // GAN_ADVERTISE, GAN_CONFIG, …) may reach them from this shell, nor a token file beside the fresh secret.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CHILD_ENV_DROPPED.has(k)));
  const proc = spawn(process.execPath, [BIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: {
      ...env,
      // The run secret goes through the environment, not the command line (which every local user can read).
      GAN_TOKEN: secret.exportText(),
      GAN_EXIT_WITH_PARENT: '1',
      GLIBC_TUNABLES: [process.env.GLIBC_TUNABLES, MALLOC_TUNABLES].filter(Boolean).join(':'),
    },
  });
  readline.createInterface({ input: proc.stdout! }).on('line', (l) => (onLine ? onLine(l) : process.stdout.write(l + '\n')));
  const err = terminalLine(process.stderr);
  readline.createInterface({ input: proc.stderr! }).on('line', (l) => {
    if (relay.filterLogs && /"level":"(info|debug|trace)"/.test(l)) return;
    // Through the terminal's line owner: above the progress bar, never on its line.
    err.writeLines(relay.render(l));
  });
  const exit = new Promise<number>((resolve) => proc.on('exit', (code, sig) => resolve(code ?? (sig ? 128 + 9 : 1))));
  return { name, proc, exit };
}

function kill(c: Child, sig: NodeJS.Signals): void {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null || !c.proc.pid) return;
  try {
    process.kill(-c.proc.pid, sig);
  } catch {
    /* already gone */
  }
}

/** Command flags of `local` that its children take as they are (the TLS files). */
const CHILD_EXTRAS = ['tlsCert', 'tlsKey', 'tlsCa'] as const;

export async function runLauncher(config: TrainConfig, extra: Record<string, unknown>): Promise<number> {
  const logFormat = String(extra.logFormat ?? 'auto');
  const logger = createLogger({ role: 'launcher', format: logFormat });
  // The dashboard (--http, default 127.0.0.1:0): the coordinator serves it and prints its URL (with the run token,
  // which only this launcher's user sees) on stdout; a bad value is refused before anything starts.
  const http = parseHttpAddress(extra.http) ? [`--http=${String(extra.http)}`] : [];
  // The launcher owns the run folder: it picks the default name once (every worker gets it) and refuses one that
  // holds another run before any process starts.
  config = { ...config, out: config.out ?? defaultRunDir() };
  prepareRunDir(config.out!, { resume: config.resume, overwrite: config.overwrite });
  logger.info({ out: config.out }, 'run folder');
  // A fresh secret per run: only this launcher and its children can call the run's ports.
  const secret = RunSecret.generate();
  const credentials = credentialsFromFlags(extra, { GAN_TOKEN: secret.exportText() });
  const progress = new ProgressBar({ total: config.steps, label: `${config.workers} workers` });
  const relay: Relay = { filterLogs: progress.isTTY, render: logLineRenderer({ format: logFormat }) };
  // Every process gets the launcher's config (from flags and any --config file; the coordinator checks they agree
  // by fingerprint), the TLS files, and JSON logs: this process reads their lines (the coordinator's address,
  // the level filter) and shows them in its own format.
  const passthrough = [
    ...configToArgs(config),
    ...CHILD_EXTRAS.filter((k) => typeof extra[k] === 'string').map((k) => `${flagName(k)}=${String(extra[k])}`),
    '--log-format=json',
  ];
  const joinArgs = [`--join-timeout-ms=${Number(extra.joinTimeoutMs ?? 300_000)}`];

  let resolveAddr!: (a: string) => void;
  const addr = new Promise<string>((r) => (resolveAddr = r));
  const coord = start('coordinator', ['coordinator', '--listen', '127.0.0.1:0', ...joinArgs, `--join-grace-ms=${Number(extra.joinGraceMs ?? 10_000)}`, ...http, ...passthrough], secret, relay, (line) => {
    try {
      const m = JSON.parse(line);
      if (m.event === 'listening') resolveAddr(m.address);
      else if (m.event === 'dashboard') {
        const plain = String(m.url).replace(/\?.*$/, '');
        logger.info({ url: m.url }, `dashboard ${plain}`);
      }
    } catch {
      process.stdout.write(line + '\n');
    }
  });
  const address = await Promise.race([addr, coord.exit.then((c) => Promise.reject(new Error(`coordinator exited with code ${c} before listening`)))]);
  logger.info({ coordinator: address, workers: config.workers }, 'coordinator up; starting workers');
  // The workers share this machine's cores unless --threads says otherwise (it is in passthrough then).
  const threads = config.threads === null ? [`--threads=${threadsPerWorker(availableCores(), config.workers)}`] : [];
  const workerArgs = ['worker', '--coordinator', address, '--advertise', '127.0.0.1', ...joinArgs, ...threads, ...passthrough];
  const workers = Array.from({ length: config.workers }, (_, i) => start(`worker ${i}`, workerArgs, secret, relay));
  const all = [coord, ...workers];
  // Elastic runs outlive a lost worker (the coordinator re-forms the group); static runs fail with it.
  const elastic = (config.minWorkers > 0 && config.minWorkers < config.workers) || config.maxRestarts > 0;
  let restarts = 0;

  const client = coordinatorClient(address, credentials);
  let interrupted = 0;
  const onSigint = () => {
    interrupted += 1;
    if (interrupted === 1) {
      logger.warn({}, 'Ctrl-C: stopping after the current step with a final checkpoint (again to kill)');
      call(client, 'Shutdown', { reason: 'Ctrl-C in the launcher' }, 3000).catch(() => kill(coord, 'SIGTERM'));
    } else {
      all.forEach((c) => kill(c, 'SIGKILL'));
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const poll = setInterval(() => {
    call(client, 'GetStatus', {}, 1000).then(
      (s) => {
        if (s.state !== 'training' && s.state !== 'stopping') return;
        const share = s.step_ms > 0 ? Math.round((100 * s.allreduce_ms) / s.step_ms) : 0;
        if (progress.isTTY) progress.update(Number(s.step), { d_loss: s.d_loss.toFixed(3), g_loss: s.g_loss.toFixed(3), allreduce: `${share}%` });
      },
      () => {},
    );
  }, 1000);

  // In a static run the first failure starts a countdown: peers must notice (collective deadline, heartbeats) and
  // exit by themselves; whatever is still running afterwards is killed, so the launcher never hangs.
  const codes = new Map<Child, number>();
  const lost: string[] = [];
  const dropped = new Set<Child>();
  let failedAt = 0;
  const grace = config.opTimeoutMs + 4 * config.heartbeatMs + 10_000;
  await new Promise<void>((resolve) => {
    const watch = (c: Child) => {
      c.exit.then((code) => {
        codes.set(c, code);
        const isWorker = c !== coord;
        if (!isWorker) {
          // The run is over: a worker still alive now was dropped from the group (e.g. hung) and is stopped here.
          setTimeout(() => all.forEach((x) => {
            if (!codes.has(x) && x !== coord) {
              dropped.add(x);
              kill(x, 'SIGKILL');
            }
          }), 5000).unref();
        }
        if (code !== 0 && dropped.has(c)) {
          lost.push(`${c.name} (exit ${code})`);
          logger.warn({ process: c.name }, 'stopped a worker the group had dropped');
        } else if (code !== 0) {
          logger.error({ process: c.name, code }, 'process failed');
          if (isWorker && elastic && codes.get(coord) === undefined) {
            lost.push(`${c.name} (exit ${code})`);
            if (restarts < config.maxRestarts) {
              restarts += 1;
              const again = start(`${c.name} restart ${restarts}`, workerArgs, secret, relay);
              logger.warn({ process: again.name, restarts, maxRestarts: config.maxRestarts }, 'restarting a worker (it re-joins at the next step boundary)');
              all.push(again);
              workers.push(again);
              watch(again);
            }
          } else if (!failedAt) {
            failedAt = Date.now();
            setTimeout(() => all.forEach((x) => kill(x, 'SIGKILL')), grace).unref();
          }
        }
        // Workers all gone: the coordinator has nobody left to wait for.
        if (workers.every((w) => codes.has(w)) && !codes.has(coord)) kill(coord, 'SIGTERM');
        if (all.every((x) => codes.has(x))) resolve();
      });
    };
    all.forEach(watch);
  });
  clearInterval(poll);
  client.close();
  progress.done();
  const bad = [...codes.entries()].filter(([ch, c]) => c !== 0 && !lost.includes(`${ch.name} (exit ${c})`)).map(([ch, c]) => `${ch.name} (exit ${c})`);
  if (lost.length) logger.warn({ lost, restarts }, 'workers lost during the run (the group re-formed without them)');
  if (bad.length) {
    logger.error({ failed: bad }, 'run failed');
    return 1;
  }
  logger.info({ workers: config.workers, out: config.out }, 'run finished');
  return 0;
}
