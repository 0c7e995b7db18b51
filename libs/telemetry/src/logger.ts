// Structured JSON logging for every process of the trainer (coordinator, workers, CLI): a thin pino factory that
// stamps each line with the process role and rank so interleaved multi-process logs can be told apart.
// Used as `createLogger({ role: 'worker', rank: 2 }).info({ step }, 'step done')`; tested by logger.test.ts.
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Process role, e.g. 'coordinator', 'worker', 'cli'. */
  role: string;
  /** Worker rank; omitted from log lines when undefined. */
  rank?: number;
  /** pino level name; defaults to env GAN_LOG_LEVEL, then 'info'. */
  level?: string;
  /** A writable stream, or a file descriptor (default 2 = stderr, so stdout stays free for machine output). */
  destination?: NodeJS.WritableStream | number;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Creates a pino logger writing one JSON object per line with base fields {role, rank?, pid} and an ISO time. */
export function createLogger(opts: LoggerOptions): Logger {
  if (!opts || typeof opts.role !== 'string' || opts.role.length === 0) {
    throw new Error('createLogger: opts.role must be a non-empty string');
  }
  if (opts.rank !== undefined && !(Number.isInteger(opts.rank) && opts.rank >= 0)) {
    throw new Error(`createLogger: rank must be a non-negative integer, got ${String(opts.rank)}`);
  }
  const level = (opts.level ?? process.env.GAN_LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!LEVELS.includes(level)) {
    throw new Error(`createLogger: unknown log level '${level}' (expected one of ${LEVELS.join(', ')})`);
  }
  const base: Record<string, unknown> = { role: opts.role };
  if (opts.rank !== undefined) base.rank = opts.rank;
  base.pid = process.pid;

  const dest = opts.destination ?? 2;
  // Synchronous fd writes: log lines must not be lost when a worker is killed or exits on an error.
  const stream = typeof dest === 'number' ? pino.destination({ fd: dest, sync: true }) : dest;
  return pino(
    {
      level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level as a label ("info") rather than pino's number: the logs are read by people and grep more than by tools.
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
