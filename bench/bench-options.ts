/**
 * The benches' command-line reading: `--name value`, `--name=value` and boolean `--name`, unknown or malformed
 * options refused with one line, and integer options checked. Not runnable; used by step-time.ts, link-scaling.ts
 * and scaling.ts.
 */

/** Options of one bench: the raw values by name, and an integer reader with a default and a lower bound. */
export interface RawOptions {
  raw: Record<string, string | true>;
  int(name: string, dflt: number, min: number): number;
}

/**
 * Reads `argv` against `known` option names; `booleans` take no value. `hidden` names are accepted but not listed
 * in the unknown-option message (internal ones, such as a bench's --child).
 */
export function readOptions(argv: string[], known: readonly string[], booleans: readonly string[] = [], hidden: readonly string[] = []): RawOptions {
  const raw: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument '${argv[i]}' (options start with --)`);
    const [, k, inline] = m;
    if (!known.includes(k) && !hidden.includes(k)) throw new Error(`unknown option --${k}; known: ${known.map((f) => `--${f}`).join(' ')}`);
    if (booleans.includes(k)) raw[k] = true;
    else if (inline !== undefined) raw[k] = inline;
    else if (i + 1 < argv.length) raw[k] = argv[++i];
    else throw new Error(`--${k} needs a value`);
  }
  const int = (k: string, dflt: number, min: number): number => {
    const v = raw[k] === undefined ? dflt : Number(raw[k]);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${k} must be an integer ≥ ${min}, got ${String(raw[k])}`);
    return v;
  };
  return { raw, int };
}
