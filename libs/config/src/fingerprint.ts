// Cross-worker agreement on the run configuration: a sha256 fingerprint of the fields every worker must share
// (the coordinator compares it at join time) and a field-by-field diff for the FAILED_PRECONDITION message.
// Tested by libs/config/src/fingerprint.test.ts (`node tools/run-tests.mjs libs/config`).
import { createHash } from 'node:crypto';
import { FINGERPRINT_FIELDS, type ConfigKey, type TrainConfig } from './fields';

/** The fingerprint fields of a config, as an object with sorted keys (the canonical form that is hashed). */
export function fingerprintFields(config: TrainConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FINGERPRINT_FIELDS) out[k] = config[k];
  return out;
}

/** sha256 hex of the canonical JSON (sorted keys, no whitespace) of the fingerprint fields. */
export function fingerprint(config: TrainConfig): string {
  return createHash('sha256').update(JSON.stringify(fingerprintFields(config))).digest('hex');
}

/** Names of the fingerprint fields whose values differ between a and b, in sorted order. */
export function diffConfigs(a: TrainConfig, b: TrainConfig): ConfigKey[] {
  return FINGERPRINT_FIELDS.filter((k) => !Object.is(a[k], b[k]));
}

/**
 * One line per differing fingerprint field, e.g.
 * "config field 'lr' differs: coordinator 0.0002, worker 0.001".
 */
export function formatConfigDiff(
  a: TrainConfig,
  b: TrainConfig,
  labels: { a: string; b: string } = { a: 'coordinator', b: 'worker' },
): string[] {
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  return diffConfigs(a, b).map((k) => `config field '${k}' differs: ${labels.a} ${show(a[k])}, ${labels.b} ${show(b[k])}`);
}
