// Command-line parsing for the trainer's subcommands, driven entirely by CONFIG_FIELDS: `--flag value`,
// `--flag=value`, booleans as `--flag` / `--no-flag` / `--flag=false`, `--` ending the flags, `-h`/`--help`
// detection, and `--config FILE` (YAML or JSON whose keys are the command's flags; flags on the command line win).
// With `env` (coordinator, worker) the GAN_* variables of env-flags.ts stand in for their flags: flag > variable >
// --config file > default.
// Also the aligned help text and the inverse (a config back to argv, for spawning workers).
// Tested by libs/config/src/parse-args.test.ts and config-file.test.ts (`node tools/run-tests.mjs libs/config`).
import { readConfigFile } from './config-file';
import { CONFIG_FILE_ENV, envVarFor, readEnvFlags, type EnvSource } from './env-flags';
import {
  CONFIG_FIELDS, CONFIG_KEYS, DEFAULT_CONFIG, MODEL_DEFAULTS, defaultsFor, flagName,
  type ConfigKey, type FieldSpec, type TrainConfig,
} from './fields';
import { checkCrossFields } from './validate';
import { ConfigError, describeRule, isValid, parseRaw, suggest } from './values';

export interface ParseOptions {
  /** Config field names this subcommand accepts (default: all of them). */
  allow?: readonly string[];
  /** Command-specific flags (e.g. `listen`), keyed by the name they get in `extra`. */
  extra?: Record<string, FieldSpec>;
  /** The environment contract (env-flags.ts) of a role and the variables to read it from; none when omitted. */
  env?: EnvSource;
}

export interface ParseResult {
  /** The defaults of the chosen model (defaultsFor) overridden by the accepted flags. */
  config: TrainConfig;
  /** Values of the command-specific flags (their `default` when not given; null for nullable ones). */
  extra: Record<string, unknown>;
  /** Arguments that are not flags, and everything after `--`. */
  positional: string[];
  /** True when -h or --help was given; then nothing else was validated (and no --config file read). */
  help: boolean;
  /** The --config file the values were read from (given by the flag or GAN_CONFIG), or null. */
  configFile: string | null;
  /** Field name → the GAN_* variable its value came from (only fields no flag set). */
  fromEnv: Record<string, string>;
}

/** The flag that names a config file; every command takes it unless it declares a `--config` of its own. */
export const CONFIG_FILE_FLAG = '--config';

interface Entry {
  name: string;
  spec: FieldSpec;
  isConfig: boolean;
}

/** Flag table of one subcommand: every accepted flag, plus the config flags it does not accept. */
function buildTable(opts: ParseOptions): { accepted: Map<string, Entry>; refused: Set<string> } {
  const allow = opts.allow ?? CONFIG_KEYS;
  for (const k of allow) {
    if (!Object.hasOwn(CONFIG_FIELDS, k)) throw new Error(`parseArgs: allow lists unknown config field '${k}'`);
  }
  const accepted = new Map<string, Entry>();
  const refused = new Set<string>();
  for (const k of CONFIG_KEYS) {
    const spec = CONFIG_FIELDS[k];
    if (allow.includes(k)) accepted.set(spec.flag, { name: k, spec, isConfig: true });
    else refused.add(spec.flag);
  }
  for (const [name, spec] of Object.entries(opts.extra ?? {})) {
    const flag = spec.flag ?? flagName(name);
    // A command may give a config flag its own meaning when it does not take that config field (export's --out).
    if (accepted.has(flag)) throw new Error(`parseArgs: extra flag ${flag} clashes with a config flag`);
    refused.delete(flag);
    accepted.set(flag, { name, spec, isConfig: false });
  }
  return { accepted, refused };
}

function extraDefaults(extra: Record<string, FieldSpec> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(extra ?? {})) {
    if (spec.default !== undefined) out[name] = spec.default;
    else if (spec.nullable) out[name] = null;
    else if (spec.type === 'boolean') out[name] = false;
  }
  return out;
}

/**
 * Parses a subcommand's argv (without the node binary, script and subcommand name).
 * Throws ConfigError with a one-line message naming the offending flag. With -h/--help, returns help: true and
 * whatever parsed, without throwing.
 */
export function parseArgs(argv: readonly string[], opts: ParseOptions = {}): ParseResult {
  const { accepted, refused } = buildTable(opts);
  // The flags given; the model's defaults fill the rest once the model is known (it may come after them).
  const given: Record<string, unknown> = {};
  const givenExtra: Record<string, unknown> = {};
  const positional: string[] = [];
  let help = false;
  let configFile: string | null = null;
  let firstError: ConfigError | undefined;
  const fail = (msg: string): void => {
    firstError ??= new ConfigError(msg);
  };

  let flagsDone = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (flagsDone) {
      positional.push(arg);
      continue;
    }
    if (arg === '--') {
      flagsDone = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (flag === CONFIG_FILE_FLAG && !accepted.has(flag)) {
      let file = inline;
      if (file === undefined && argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) file = argv[++i];
      if (!file) fail(`${CONFIG_FILE_FLAG} needs a value (a YAML or JSON file)`);
      else if (configFile !== null) fail(`${CONFIG_FILE_FLAG} given twice (${configFile}, ${file}): give one file`);
      else configFile = file;
      continue;
    }
    let entry = accepted.get(flag);
    let negated = false;
    if (!entry && flag.startsWith('--no-') && inline === undefined) {
      const base = accepted.get('--' + flag.slice(5));
      if (base?.spec.type === 'boolean') [entry, negated] = [base, true];
    }
    if (!entry) {
      if (refused.has(flag)) {
        fail(`unknown flag ${flag} (this command does not take it)`);
      } else {
        const hint = suggest(flag, [...accepted.keys()]);
        fail(`unknown flag ${flag}${hint ? ` (did you mean ${hint}?)` : ''}`);
      }
      continue;
    }
    const target = entry.isConfig ? given : givenExtra;
    const { spec } = entry;
    if (spec.type === 'boolean') {
      if (inline === undefined) {
        target[entry.name] = !negated;
        continue;
      }
      const value = parseRaw(spec, inline);
      if (value === undefined) fail(`${flag} must be true or false, got ${JSON.stringify(inline)}`);
      else target[entry.name] = value;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      // A following flag is not a value (negative numbers are: `--seed -1` reports the range, not "needs a value").
      if (next !== undefined && next !== '--' && !(next.startsWith('--') || /^-[a-zA-Z]/.test(next))) {
        raw = next;
        i++;
      }
    }
    if (raw === undefined) {
      fail(`${flag} needs a value (${describeRule(spec)})`);
      continue;
    }
    const value = parseRaw(spec, raw);
    if (value === undefined) fail(`${flag} must be ${describeRule(spec)}, got ${JSON.stringify(raw)}`);
    else target[entry.name] = value;
  }

  if (help) {
    const model = (given.model as TrainConfig['model'] | undefined) ?? DEFAULT_CONFIG.model;
    const extra = { ...extraDefaults(opts.extra), ...givenExtra };
    return { config: { ...defaultsFor(model), ...given } as TrainConfig, extra, positional, help, configFile, fromEnv: {} };
  }
  if (firstError) throw firstError;
  const byName = new Map([...accepted].map(([flag, e]) => [e.name, { flag, spec: e.spec, isConfig: e.isConfig }]));
  const env = opts.env
    ? readEnvFlags(opts.env, (field) => byName.get(field), (field) => Object.hasOwn(given, field) || Object.hasOwn(givenExtra, field))
    : { values: {}, from: {}, configFile: null };
  const fromEnv = { config: {} as Record<string, unknown>, extra: {} as Record<string, unknown> };
  for (const [field, value] of Object.entries(env.values)) (byName.get(field)!.isConfig ? fromEnv.config : fromEnv.extra)[field] = value;
  const fileVia = configFile === null && env.configFile !== null ? CONFIG_FILE_ENV : undefined;
  configFile ??= env.configFile;
  const fromFile = configFile !== null ? valuesFromFile(configFile, accepted, fileVia) : { config: {}, extra: {} };
  // The flags given win over the environment, which wins over the file, which wins over the defaults of the model
  // (chosen by any of them).
  const merged = { ...fromFile.config, ...fromEnv.config, ...given };
  const model = (merged.model as TrainConfig['model'] | undefined) ?? DEFAULT_CONFIG.model;
  const config = { ...defaultsFor(model), ...merged };
  const extra = { ...extraDefaults(opts.extra), ...fromFile.extra, ...fromEnv.extra, ...givenExtra };
  const result: ParseResult = { config: config as TrainConfig, extra, positional, help, configFile, fromEnv: env.from };
  checkCrossFields(result.config, (k) => env.from[k] ?? CONFIG_FIELDS[k].flag);
  return result;
}

/**
 * The values of a --config file, checked like flags: a key is a flag without its dashes (`batch-size`) or the
 * config's camelCase name (`batchSize`); unknown keys, keys the command does not take, values of the wrong type
 * or out of range, and a flag named twice are one-line errors naming the file and the key. From a run's
 * config.json, the fields this command does not take are skipped (that file lists every field of the config).
 */
function valuesFromFile(file: string, accepted: Map<string, Entry>, via?: string): { config: Record<string, unknown>; extra: Record<string, unknown> } {
  const where = `config file ${file}${via ? ` (from ${via})` : ''}`;
  const { entries, fromRun } = readConfigFile(file);
  const byKey = new Map<string, [string, Entry]>();
  for (const [flag, e] of accepted) {
    byKey.set(flag.slice(2), [flag, e]);
    byKey.set(e.name, [flag, e]);
  }
  const out = { config: {} as Record<string, unknown>, extra: {} as Record<string, unknown> };
  const seen = new Map<string, string>();
  for (const [key, value] of entries) {
    const hit = byKey.get(key);
    if (!hit) {
      const field = CONFIG_KEYS.find((k) => k === key || CONFIG_FIELDS[k].flag === `--${key}`);
      if (field !== undefined && fromRun) continue;
      if (field !== undefined) throw new ConfigError(`${where}: key '${key}': this command does not take ${CONFIG_FIELDS[field].flag}`);
      const hint = suggest(key, [...byKey.keys()]);
      throw new ConfigError(`${where}: unknown key '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    const [flag, entry] = hit;
    const before = seen.get(flag);
    if (before !== undefined) throw new ConfigError(`${where}: keys '${before}' and '${key}' both set ${flag}`);
    seen.set(flag, key);
    if (!isValid(entry.spec, value)) {
      throw new ConfigError(`${where}: key '${key}' must be ${describeRule(entry.spec)}, got ${JSON.stringify(value) ?? String(value)}`);
    }
    (entry.isConfig ? out.config : out.extra)[entry.name] = value;
  }
  return out;
}

export interface HelpOptions extends ParseOptions {
  /** First line, e.g. 'gan-train train [options]'. */
  usage?: string;
  /** Paragraph under the usage line. */
  description?: string;
  /** Total width to wrap to; help lines are not wrapped below this, only aligned. */
  width?: number;
}

function metavar(spec: FieldSpec): string {
  if (spec.metavar) return spec.metavar;
  switch (spec.type) {
    case 'int':
      return 'N';
    case 'number':
      return 'X';
    case 'enum': {
      const joined = (spec.values ?? []).join('|');
      return joined.length <= 24 ? joined : 'NAME';
    }
    case 'string':
      return 'VALUE';
    case 'boolean':
      return '';
  }
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function describeDefault(value: unknown, perModel = ''): string {
  if (value === null || value === undefined) return '';
  return ` (default ${show(value)}${perModel})`;
}

/** `; mlp: 0.0005` for a field some model defaults differently, else ''. */
function modelDefaults(k: ConfigKey): string {
  return Object.entries(MODEL_DEFAULTS)
    .filter(([, d]) => Object.hasOwn(d, k))
    .map(([m, d]) => `; ${m}: ${show(d[k])}`)
    .join('');
}

function helpRow(flag: string, spec: FieldSpec, def: unknown, perModel = '', envVar?: string): [string, string] {
  const left = spec.type === 'boolean' ? `--[no-]${flag.slice(2)}` : `${flag} ${metavar(spec)}`;
  let text = spec.help;
  if (spec.type === 'enum' && metavar(spec) === 'NAME') text += `; one of ${(spec.values ?? []).join('|')}`;
  return [left, text + (envVar ? ` [env ${envVar}]` : '') + describeDefault(def, perModel)];
}

/** Aligned help text for a subcommand: usage, description, command options, then the accepted config options. */
export function formatHelp(opts: HelpOptions = {}): string {
  const { accepted } = buildTable(opts);
  const commandRows: [string, string][] = [];
  const configRows: [string, string][] = [];
  for (const [flag, e] of accepted) {
    const def = e.isConfig ? DEFAULT_CONFIG[e.name as ConfigKey] : e.spec.default;
    const envVar = opts.env ? envVarFor(opts.env.role, e.name) : undefined;
    (e.isConfig ? configRows : commandRows).push(helpRow(flag, e.spec, def, e.isConfig ? modelDefaults(e.name as ConfigKey) : '', envVar));
  }
  if (!accepted.has(CONFIG_FILE_FLAG)) {
    const envVar = opts.env ? ` [env ${CONFIG_FILE_ENV}]` : '';
    configRows.push([`${CONFIG_FILE_FLAG} FILE`, `read flags from a YAML or JSON file (keys: flag names, e.g. batch-size: 64; a run's config.json works too); flags given here win${envVar}`]);
  }
  configRows.push(['-h, --help', 'show this help']);
  const all = [...commandRows, ...configRows];
  const col = Math.min(Math.max(...all.map(([l]) => l.length)) + 2, 34);
  const fmt = ([l, r]: [string, string]): string =>
    l.length + 2 > col ? `  ${l}\n  ${' '.repeat(col)}${r}` : `  ${l.padEnd(col)}${r}`;
  const parts: string[] = [];
  if (opts.usage) parts.push(`Usage: ${opts.usage}`, '');
  if (opts.description) parts.push(opts.description, '');
  if (opts.env) {
    parts.push('A flag marked [env NAME] can come from that environment variable instead; a flag given here wins over it, and it wins over --config and the default.', '');
  }
  if (commandRows.length) parts.push('Command options:', ...commandRows.map(fmt), '');
  parts.push('Options:', ...configRows.map(fmt));
  return parts.join('\n') + '\n';
}

/**
 * The argv that makes parseArgs reproduce `config` (for spawning a worker with the coordinator's settings):
 * only fields that differ from the defaults of config's model (and --model itself when it is not the default), as
 * `--flag=value` so values starting with '-' survive.
 * Null fields cannot be spelled on the command line and are left out (null is their default anyway).
 */
export function configToArgs(config: TrainConfig, keys: readonly ConfigKey[] = CONFIG_KEYS): string[] {
  const args: string[] = [];
  const defaults = defaultsFor(config.model);
  for (const k of keys) {
    const value = config[k];
    if ((k === 'model' ? value === DEFAULT_CONFIG.model : value === defaults[k]) || value === null) continue;
    const { flag, type } = CONFIG_FIELDS[k];
    if (type === 'boolean') args.push(value ? flag : `--no-${flag.slice(2)}`);
    else args.push(`${flag}=${String(value)}`);
  }
  return args;
}
