// Public API of @gan/config: the typed run configuration (defaults, field metadata), argv parsing and help,
// --config files (YAML/JSON), the coordinator's and worker's GAN_* environment contract, validation of configs read as data, and the cross-worker fingerprint. No TF.js, no gRPC.
export {
  CONFIG_FIELDS, CONFIG_KEYS, DEFAULT_CONFIG, FINGERPRINT_FIELDS, MODEL_DEFAULTS, defaultsFor, flagName,
  type ConfigFieldSpec, type ConfigKey, type FieldSpec, type TrainConfig,
} from './fields';
export { ConfigError, describeRule } from './values';
export { parseArgs, formatHelp, configToArgs, CONFIG_FILE_FLAG, type ParseOptions, type ParseResult, type HelpOptions } from './parse-args';
export { readConfigFile, RUN_FOLDER_FIELDS, type ConfigFileContents } from './config-file';
export { validateConfig } from './validate';
export { fingerprint, fingerprintFields, diffConfigs, formatConfigDiff } from './fingerprint';
export { DISTRIBUTED_COMMANDS, DISTRIBUTED_FLAGS, LOG_FLAGS, LOG_FORMAT_VALUES } from './command-flags';
export {
  CONFIG_FILE_ENV, ENV_FLAGS, RUN_SECRET_ENV, envVarFor, envVarsOf, readEnvFlags, type EnvFlagValues, type EnvRole, type EnvSource,
} from './env-flags';
