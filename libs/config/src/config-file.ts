// Reading a `--config FILE`: YAML (or JSON, which is read as JSON when the name ends in .json) holding one mapping
// of flag names to values, e.g.
//   dataset: shapes
//   image-size: 32        # or imageSize: 32 — the flag without its dashes, or the config's camelCase name
//   lr: 2.0e-4
// A run's config.json ({"config": {...}, "version": ..., ...}) is accepted too: its `config` object is read and
// everything beside it (RunInfo: versions, backend, world size, start time) is ignored. The keys are checked
// against the command's flags by parseArgs (parse-args.ts); this file only reads and unwraps.
// Tested by libs/config/src/config-file.test.ts (`node tools/run-tests.mjs libs/config`).
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './values';

/**
 * Fields of a run's config.json that say where that run lived rather than how to train: when the file is read as
 * `--config`, they are left out, so the new run gets a folder of its own (or the --out/--resume given with it) and
 * an old --overwrite never deletes anything.
 */
export const RUN_FOLDER_FIELDS: readonly string[] = Object.freeze(['out', 'resume', 'overwrite']);

export interface ConfigFileContents {
  /** The key/value pairs in file order, keys as written. */
  entries: [string, unknown][];
  /** True when the file is a run's config.json (its `config` object was read, RUN_FOLDER_FIELDS left out). */
  fromRun: boolean;
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

/** Reads and parses `file`; throws a one-line ConfigError naming the file for anything wrong with it. */
export function readConfigFile(file: string): ConfigFileContents {
  const where = `config file ${file}`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ConfigError(`${where}: cannot read it (${why})`);
  }
  let doc: unknown;
  if (/\.json$/i.test(file)) {
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${where}: not valid JSON: ${(e as Error).message}`);
    }
  } else {
    try {
      // YAML 1.2 core schema: `2e-4` is a number, `yes` a string; a repeated key is an error.
      doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
    } catch (e) {
      // The first line of yaml's message names the problem and its line and column (a code frame follows).
      throw new ConfigError(`${where}: not valid YAML: ${(e as Error).message.split('\n')[0].replace(/:$/, '')}`);
    }
  }
  // An empty file (or one with only comments) sets nothing.
  if (doc === null || doc === undefined) return { entries: [], fromRun: false };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`${where}: must hold a mapping of flag names to values (e.g. batch-size: 64), got ${kind(doc)}`);
  }
  const top = doc as Record<string, unknown>;
  if (Object.hasOwn(top, 'config')) {
    const inner = top.config;
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
      throw new ConfigError(`${where}: key 'config' must be a run's config mapping, got ${kind(inner)} (a config file cannot name another one)`);
    }
    const entries = Object.entries(inner as Record<string, unknown>).filter(([k]) => !RUN_FOLDER_FIELDS.includes(k));
    return { entries, fromRun: true };
  }
  return { entries: Object.entries(top), fromRun: false };
}
