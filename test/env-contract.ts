/**
 * The GAN_* variables the multi-host test (test/multi-host.test.ts) starts its main 3-host run with, per role: the
 * same set deploy/k8s sets for each role (test/deploy.test.ts checks both against @gan/config's contract). A module
 * of its own so deploy.test.ts can import it without running the multi-host test. Not a test; no test of its own.
 */

/** What a coordinator pod gets: where to listen, how many workers, the dashboard, the run folder, the config file, the secret. */
export const COORDINATOR_ENV = ['GAN_LISTEN', 'GAN_WORKERS', 'GAN_HTTP', 'GAN_OUT', 'GAN_CONFIG', 'GAN_TOKEN_FILE'] as const;

/** What a worker pod gets: the coordinator, its own address, ports and name, the worker count, the run folder, the config file, the secret. */
export const WORKER_ENV = [
  'GAN_COORDINATOR', 'GAN_ADVERTISE', 'GAN_PORT', 'GAN_DATA_PORT', 'GAN_WORKER_ID', 'GAN_WORKERS', 'GAN_OUT', 'GAN_CONFIG', 'GAN_TOKEN_FILE',
] as const;

export type CoordinatorEnv = Record<(typeof COORDINATOR_ENV)[number], string>;
export type WorkerEnv = Record<(typeof WORKER_ENV)[number], string>;

/**
 * The train flags as a --config file's mapping (`['--image-size', '32']` → `{ 'image-size': 32 }`): what a ConfigMap
 * holds for GAN_CONFIG. Numbers become numbers (the file's values are typed, as YAML's are); every flag takes a value.
 */
export function flagsToConfig(args: readonly string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (!flag.startsWith('--') || value === undefined || value.startsWith('--')) throw new Error(`flagsToConfig: ${flag} needs a value`);
    out[flag.slice(2)] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}
