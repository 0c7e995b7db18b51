// Validation of configurations that arrive as data (checkpoint metadata, JSON files, a coordinator's handshake):
// unknown keys and wrong types are errors, missing keys take their defaults, and the cross-field rules that the
// argv parser also applies are checked. Tested by libs/config/src/validate.test.ts
// (`node tools/run-tests.mjs libs/config`).
import { CONFIG_FIELDS, CONFIG_KEYS, DEFAULT_CONFIG, defaultsFor, type ConfigKey, type TrainConfig } from './fields';
import { ConfigError, describeRule, isValid, suggest } from './values';

/** Rules that involve more than one field; `name` turns a field into how the user spelled it (flag or key). */
export function checkCrossFields(config: TrainConfig, name: (k: ConfigKey) => string): void {
  if (config.minWorkers > config.workers) {
    throw new ConfigError(
      `${name('minWorkers')} (${config.minWorkers}) must not exceed ${name('workers')} (${config.workers})`,
    );
  }
  if (config.labelSmoothing > 0 && config.loss !== 'non-saturating' && config.loss !== 'minimax') {
    throw new ConfigError(
      `${name('labelSmoothing')} applies to the BCE losses (non-saturating, minimax), not ${name('loss')} ${config.loss}`,
    );
  }
  // clip and gpWeight have defaults, so "given" can only mean "not the default" here (the rules hold for configs
  // read as data too, where a flag's presence is unknown).
  if (config.loss === 'wgan-gp' && config.clip !== DEFAULT_CONFIG.clip) {
    throw new ConfigError(`${name('clip')} (weight clipping) applies to ${name('loss')} wgan, not wgan-gp: its gradient penalty (${name('gpWeight')}) replaces clipping`);
  }
  if (config.loss !== 'wgan' && config.loss !== 'wgan-gp' && config.clip !== DEFAULT_CONFIG.clip) {
    throw new ConfigError(`${name('clip')} (weight clipping) applies to ${name('loss')} wgan, not ${config.loss}`);
  }
  if (config.optimizer === 'rmsprop' && (config.beta1 !== DEFAULT_CONFIG.beta1 || config.beta2 !== DEFAULT_CONFIG.beta2)) {
    // torch.optim.RMSprop's defaults (alpha 0.99, no momentum) stand in for Adam's betas; none of them is a flag.
    throw new ConfigError(`${name(config.beta1 !== DEFAULT_CONFIG.beta1 ? 'beta1' : 'beta2')} applies to ${name('optimizer')} adam, not rmsprop`);
  }
  if (config.loss !== 'wgan-gp' && config.gpWeight !== DEFAULT_CONFIG.gpWeight) {
    throw new ConfigError(`${name('gpWeight')} applies to ${name('loss')} wgan-gp, not ${config.loss}`);
  }
  if (config.loss === 'wgan-gp' && config.model === 'dcgan' && config.norm !== 'none') {
    // The penalty is per sample (Gulrajani et al. drop BatchNorm from the critic for this reason); --norm sets
    // both nets' normalisation, so G goes without BatchNorm too.
    throw new ConfigError(`${name('loss')} wgan-gp needs ${name('norm')} none: its gradient penalty is per sample and BatchNorm in the critic mixes the batch's samples`);
  }
}

/**
 * Checks a configuration read from JSON or a checkpoint and returns a fresh TrainConfig: unknown keys fail
 * (with a suggestion), wrong types or out-of-range values fail, missing keys are filled from the defaults of the
 * config's model (defaultsFor).
 */
export function validateConfig(obj: unknown): TrainConfig {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new ConfigError(`config must be a JSON object, got ${obj === null ? 'null' : Array.isArray(obj) ? 'an array' : typeof obj}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (!Object.hasOwn(CONFIG_FIELDS, key)) {
      const hint = suggest(key, CONFIG_KEYS);
      throw new ConfigError(`config has unknown field '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
    }
    const spec = CONFIG_FIELDS[key as ConfigKey];
    if (!isValid(spec, value)) {
      throw new ConfigError(`config field '${key}' must be ${describeRule(spec)}, got ${JSON.stringify(value) ?? String(value)}`);
    }
    out[key] = value;
  }
  const config = { ...defaultsFor((out.model as TrainConfig['model'] | undefined) ?? DEFAULT_CONFIG.model), ...out } as TrainConfig;
  checkCrossFields(config, (k) => `config field '${k}'`);
  return config;
}
