// Logging for every process of the trainer (coordinator, workers, CLI): a thin pino factory that stamps each line
// with the process role and rank so interleaved multi-process logs can be told apart. Two formats (`--log-format`):
//   json    one JSON object per line (what tools and `gan-train local` read):
//           {"level":"info","time":"2026-…","role":"worker","rank":1,"pid":7,"worldSize":2,"msg":"joined"}
//   pretty  one readable line per record (pino-pretty, formatted synchronously in this process):
//           [12:04:31.112] INFO: worker 1: joined {"worldSize":2,"generation":1}
// 'auto' (the default) is pretty when the destination is a terminal, JSON otherwise. On a terminal every line
// goes through the stream's TerminalLine, so it never lands on a progress bar's line.
// Used as `createLogger({ role: 'worker', rank: 2 }).info({ step }, 'step done')`; tested by logger.test.ts.
import tty from 'node:tty';
import pino, { type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { terminalLine, type LineStream } from './terminal-line';

export type { Logger };

/** The values of `--log-format`. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  /** Process role, e.g. 'coordinator', 'worker', 'cli'. */
  role: string;
  /** Worker rank; omitted from log lines when undefined. */
  rank?: number;
  /** pino level name; defaults to env GAN_LOG_LEVEL, then 'info'. */
  level?: string;
  /** 'auto' (default): pretty on a TTY, JSON otherwise; 'pretty' or 'json' choose one. */
  format?: string;
  /** Colours in pretty lines; default: on a TTY unless the NO_COLOR environment variable is set. */
  colorize?: boolean;
  /** A writable stream, or a file descriptor (default 2 = stderr, so stdout stays free for machine output). */
  destination?: NodeJS.WritableStream | LineStream | number;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Throws a one-line error unless `format` is one of LOG_FORMATS; returns it typed. */
export function checkLogFormat(format: unknown): LogFormat {
  if (!(LOG_FORMATS as readonly unknown[]).includes(format)) {
    throw new Error(`unknown log format '${String(format)}' (expected one of ${LOG_FORMATS.join(', ')})`);
  }
  return format as LogFormat;
}

/** What a format means for a destination: 'auto' is pretty on a TTY and JSON elsewhere. */
export function resolveLogFormat(format: string | undefined, isTTY: boolean): 'pretty' | 'json' {
  const f = checkLogFormat(format ?? 'auto');
  return f === 'auto' ? (isTTY ? 'pretty' : 'json') : f;
}

function colorDefault(isTTY: boolean): boolean {
  return isTTY && !process.env.NO_COLOR;
}

/**
 * A JSON log line (as pino writes it, ours or another gan-train process's) → one readable line with a trailing
 * newline: local time, level, `role rank: message`, then the remaining fields as compact JSON. pid and hostname
 * are left out; error objects keep their stack on the lines below. A line that is not JSON comes back unchanged.
 */
function prettyFormatter(colorize: boolean): (line: string) => string {
  return prettyFactory({
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,role,rank',
    messageFormat: (log, messageKey) => {
      const who = `${String(log.role ?? '?')}${log.rank !== undefined ? ` ${String(log.rank)}` : ''}`;
      const msg = log[messageKey];
      return msg === undefined ? who : `${who}: ${String(msg)}`;
    },
  });
}

/**
 * For a process that relays other gan-train processes' JSON log lines (the `local` launcher): returns a function
 * that gives a relayed line (no trailing newline) as this process's own logger would print it on `stream`.
 */
export function logLineRenderer(opts: { format?: string; stream?: LineStream; colorize?: boolean } = {}): (line: string) => string {
  const isTTY = (opts.stream ?? process.stderr).isTTY === true;
  if (resolveLogFormat(opts.format, isTTY) === 'json') return (line) => line;
  const pretty = prettyFormatter(opts.colorize ?? colorDefault(isTTY));
  return (line) => (line.startsWith('{') ? pretty(line).replace(/\n$/, '') : line);
}

/** Where lines go: the stream (its TerminalLine on a TTY) or a synchronous fd, and whether that is a terminal. */
function sinkFor(dest: NodeJS.WritableStream | LineStream | number): { isTTY: boolean; direct: DestinationStream; write: (s: string) => void } {
  let stream: LineStream | undefined;
  if (typeof dest === 'number') stream = dest === 2 ? process.stderr : dest === 1 ? process.stdout : undefined;
  else stream = dest as LineStream;
  const isTTY = stream ? stream.isTTY === true : tty.isatty(dest as number);
  if (stream && isTTY) {
    const owner = terminalLine(stream);
    const write = (s: string): void => owner.writeLines(s);
    return { isTTY, direct: { write }, write };
  }
  // Synchronous fd writes: log lines must not be lost when a worker is killed or exits on an error.
  const direct: DestinationStream = typeof dest === 'number' ? pino.destination({ fd: dest, sync: true }) : (dest as DestinationStream);
  return { isTTY, direct, write: (s) => void direct.write(s) };
}

/**
 * Creates a pino logger with base fields {role, rank?, pid} and an ISO time, writing JSON lines or pretty lines
 * (see the top of this file). Writes are synchronous in both formats.
 */
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
  checkLogFormat(opts.format ?? 'auto');
  const base: Record<string, unknown> = { role: opts.role };
  if (opts.rank !== undefined) base.rank = opts.rank;
  base.pid = process.pid;

  const sink = sinkFor(opts.destination ?? 2);
  const format = resolveLogFormat(opts.format, sink.isTTY);
  let stream: DestinationStream = sink.direct;
  if (format === 'pretty') {
    // pino-pretty's formatter called in this process, line by line: nothing is buffered in a transport or a
    // worker thread, so a line is on the terminal before the next statement runs (and before a process.exit).
    const pretty = prettyFormatter(opts.colorize ?? colorDefault(sink.isTTY));
    stream = { write: (line: string) => sink.write(pretty(line)) };
  }
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
