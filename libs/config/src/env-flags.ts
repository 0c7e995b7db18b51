// The environment contract of `gan-train coordinator` and `gan-train worker`: the GAN_* variables that stand in for
// their rendezvous flags, so one container image runs as either role with only the role on its command line and the
// rest set by an orchestrator (Kubernetes env, the downward API's pod IP, a mounted Secret and ConfigMap).
// Read here and nowhere else; parseArgs applies it when a command passes `env` (libs/distributed command-main.ts).
// Precedence, as torchrun's and Viper's: a flag on the command line wins over its variable, which wins over the
// --config file (GAN_CONFIG names one), which wins over the defaults. An empty variable counts as unset (manifests
// often set "" for "none"). Only these variables are read: no generic GAN_<FLAG> rule, so a stray variable in a
// shell cannot change a run's training flags unseen; those come from flags or the --config file.
// Tests: node tools/run-tests.mjs libs/config env-flags
import type { FieldSpec } from './fields';
import { ConfigError, describeRule, parseRaw } from './values';

export type EnvRole = 'coordinator' | 'worker';

/** The variable naming a --config file (YAML or JSON, e.g. a mounted ConfigMap) for either role. */
export const CONFIG_FILE_ENV = 'GAN_CONFIG';

/**
 * The run secret's variables. @gan/auth's RunSecret.resolve reads them (auth may not import this lib: its order is
 * `--token-file`, then GAN_TOKEN, then GAN_TOKEN_FILE); they are listed here so the contract is one list, and
 * test/deploy.test.ts checks that auth honours them.
 */
export const RUN_SECRET_ENV = ['GAN_TOKEN', 'GAN_TOKEN_FILE'] as const;

/**
 * Variable → the flag it stands in for, by the flag's field name (a config field such as `workers`, or the
 * command's own such as `advertise`), per role. GAN_WORKERS and GAN_MIN_WORKERS are read by workers too: only the
 * coordinator acts on them, but rank 0 records them in the run's config.json, so both roles get the same values.
 */
export const ENV_FLAGS: Readonly<Record<EnvRole, Readonly<Record<string, string>>>> = Object.freeze({
  coordinator: Object.freeze({
    GAN_LISTEN: 'listen',
    GAN_WORKERS: 'workers',
    GAN_MIN_WORKERS: 'minWorkers',
    GAN_HTTP: 'http',
    GAN_OUT: 'out',
  }),
  worker: Object.freeze({
    GAN_COORDINATOR: 'coordinator',
    GAN_ADVERTISE: 'advertise',
    GAN_BIND: 'bind',
    GAN_PORT: 'port',
    GAN_DATA_PORT: 'dataPort',
    GAN_WORKER_ID: 'workerId',
    GAN_WORKERS: 'workers',
    GAN_MIN_WORKERS: 'minWorkers',
    GAN_OUT: 'out',
  }),
});

/** Every variable a role reads: its flags', GAN_CONFIG and the run secret's (what a manifest may set for it). */
export function envVarsOf(role: EnvRole): string[] {
  return [...Object.keys(ENV_FLAGS[role]), CONFIG_FILE_ENV, ...RUN_SECRET_ENV];
}

/** Where parseArgs reads the contract from: the command's role and its environment. */
export interface EnvSource {
  role: EnvRole;
  vars: Readonly<Record<string, string | undefined>>;
}

/** The variable that stands in for a field's flag in this role, if any (for help text and messages). */
export function envVarFor(role: EnvRole, field: string): string | undefined {
  return Object.entries(ENV_FLAGS[role]).find(([, f]) => f === field)?.[0];
}

export interface EnvFlagValues {
  /** Field name → typed value, for the variables that were set and whose flag was not given. */
  values: Record<string, unknown>;
  /** Field name → the variable it came from (messages name the variable, not the flag). */
  from: Record<string, string>;
  /** GAN_CONFIG's file, or null. */
  configFile: string | null;
}

/**
 * Reads the role's variables. `specOf` gives the spec of a field the command takes; `given` says whether its flag
 * was on the command line (then the variable is not read at all, so a bad value there cannot fail a run whose flag
 * overrides it). A value that breaks the flag's rule is a one-line ConfigError naming the variable and the flag.
 */
export function readEnvFlags(source: EnvSource, specOf: (field: string) => { flag: string; spec: FieldSpec } | undefined, given: (field: string) => boolean): EnvFlagValues {
  const out: EnvFlagValues = { values: {}, from: {}, configFile: null };
  for (const [name, field] of Object.entries(ENV_FLAGS[source.role])) {
    const raw = source.vars[name];
    if (raw === undefined || raw === '' || given(field)) continue;
    const entry = specOf(field);
    // A programming error, not a user's: the contract names a flag the command does not declare.
    if (!entry) throw new Error(`env contract: ${name} names ${field}, which \`${source.role}\` does not take`);
    const value = parseRaw(entry.spec, raw.trim());
    if (value === undefined) throw new ConfigError(`${name} (for ${entry.flag}) must be ${describeRule(entry.spec)}, got ${JSON.stringify(raw)}`);
    out.values[field] = value;
    out.from[field] = name;
  }
  const file = source.vars[CONFIG_FILE_ENV];
  if (file !== undefined && file.trim() !== '') out.configFile = file.trim();
  return out;
}
