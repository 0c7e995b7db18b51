// The logger the collective writes to: pino's shape, so the worker's pino logger plugs in as it is.
// Not run directly; no tests of its own.

/** pino-like logger; every method takes (object, message) or (message). */
export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
}

export const noopLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
