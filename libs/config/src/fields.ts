// The run configuration of the GAN trainer: its type, its defaults and the metadata of every field (flag name,
// help line, value rules, whether it is part of the cross-worker fingerprint). Everything else in @gan/config
// (argv parsing, JSON validation, help text, fingerprints) is driven by CONFIG_FIELDS, so a new option is added
// here and nowhere else. Not runnable on its own; tested through libs/config/src/*.test.ts
// (`node tools/run-tests.mjs libs/config`).

/** The complete, validated configuration of one training run (all workers of a run share the fingerprint fields). */
export interface TrainConfig {
  model: 'dcgan' | 'mlp';
  dataset: 'shapes' | 'ring8' | 'grid25' | 'mnist' | 'fashion-mnist' | 'kmnist' | 'cifar10' | 'folder';
  /** Path for real datasets or the image folder; null = the data lib's own default. */
  dataRoot: string | null;
  download: boolean;
  /** Let --download use plain http URLs (default: https only). */
  allowHttp: boolean;
  dropLast: boolean;
  skipBadImages: boolean;
  /** Side of the square images: 28, 32 or 64. */
  imageSize: number;
  channels: 1 | 3;
  nz: number;
  ngf: number;
  ndf: number;
  norm: 'batch' | 'none';
  /** Spectral normalization of D's conv and linear weights (Miyato et al.; one power iteration per D forward). */
  spectralNorm: boolean;
  mlpHidden: number;
  steps: number;
  /** Per-worker batch size (the global batch is batchSize × workers). */
  batchSize: number;
  /** Both nets' optimiser: Adam (--beta1, --beta2) or RMSprop (torch.optim.RMSprop's defaults), each with --lr. */
  optimizer: 'adam' | 'rmsprop';
  lr: number;
  beta1: number;
  beta2: number;
  /** The GAN objective (D's and G's losses together): see @gan/model's losses. */
  loss: 'non-saturating' | 'minimax' | 'hinge' | 'wgan' | 'wgan-gp';
  /** One-sided: the real label is 1 - labelSmoothing; in [0, 0.5). BCE losses only. */
  labelSmoothing: number;
  /** WGAN weight clipping: D's weights are clamped to [-clip, clip] after every D update (--loss wgan only). */
  clip: number;
  /** WGAN-GP: λ of the gradient penalty λ·E[(‖∇x̂ D(x̂)‖₂ − 1)²] on D's loss (--loss wgan-gp only; Gulrajani et al.'s 10). */
  gpWeight: number;
  /** D updates per G update, each on its own batch and with its own all-reduce (WGAN's n_critic). */
  nCritic: number;
  /**
   * Unrolled GAN (Metz et al.), first-order: G's loss is taken against a transient copy of D advanced by this many
   * extra D updates (each on a fresh batch and z, all-reduced); the real D is untouched by them. 0 = off.
   */
  unrolled: number;
  /** G matches the batch means of D's last hidden features on real data (Salimans et al.) instead of --loss's G objective. */
  featureMatching: boolean;
  /** The run folder; null = a fresh runs/<UTC date>-<time> per run (resolved by the command before training). */
  out: string | null;
  /** Replace the run an existing --out holds (its files only) instead of refusing to mix two runs. */
  overwrite: boolean;
  seed: number;
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /**
   * Compute threads of one training process: the optimiser's update on the host (every backend) and the wasm
   * backend's XNNPACK pool.
   * null = the cores that process may use: all of them for `train` and `worker`, cores ÷ workers for `local`.
   * Per process, not per run: workers on different machines may differ, so it is not fingerprinted.
   */
  threads: number | null;
  /** A checkpoint file, or a run directory (its latest valid checkpoint); null = start fresh. */
  resume: string | null;
  sampleEvery: number;
  checkpointEvery: number;
  logEvery: number;
  keepCheckpoints: number;
  workers: number;
  /** 0 = same as workers. */
  minWorkers: number;
  wire: 'fp32' | 'fp16' | 'bf16';
  /** How a worker pulls gradient chunks from its ring predecessor: a TCP data channel, or gRPC Pull streams. */
  transport: 'tcp' | 'grpc';
  opTimeoutMs: number;
  heartbeatMs: number;
  hashEvery: number;
  maxRestarts: number;
}

export type ConfigKey = keyof TrainConfig;

/**
 * How one flag / config field is parsed and checked.
 * - 'int' / 'number': `min`/`max` are inclusive bounds, `maxExclusive` makes `max` exclusive, `minExclusive` `min`.
 * - 'enum': `values` lists the allowed values (strings, or numbers for numeric enums such as imageSize).
 * - 'string', 'int': `nullable` lets JSON configs hold null (the CLI cannot produce null; leave the flag out instead).
 * - 'boolean': `--flag`, `--no-flag` or `--flag=true|false`.
 */
export interface FieldSpec {
  type: 'int' | 'number' | 'string' | 'boolean' | 'enum';
  values?: readonly (string | number)[];
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  nullable?: boolean;
  /** Kebab-case flag including the dashes, e.g. '--batch-size'; derived from the field name when omitted. */
  flag?: string;
  /** One-line help text. */
  help: string;
  /** True when every worker of a run must agree on the value. */
  fingerprint?: boolean;
  /** Default for command-specific extras (config fields take theirs from DEFAULT_CONFIG). */
  default?: unknown;
  /** Placeholder shown in help, e.g. 'PATH'; derived from the type when omitted. */
  metavar?: string;
}

/** A config field's spec: flag and fingerprint are always spelled out. */
export type ConfigFieldSpec = FieldSpec & { flag: string; fingerprint: boolean };

/** camelCase → --kebab-case. */
export function flagName(name: string): string {
  return '--' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  model: 'dcgan',
  dataset: 'shapes',
  dataRoot: null,
  download: false,
  allowHttp: false,
  dropLast: false,
  skipBadImages: false,
  imageSize: 64,
  channels: 3,
  nz: 100,
  ngf: 128,
  ndf: 64,
  norm: 'batch',
  spectralNorm: false,
  mlpHidden: 128,
  steps: 1000,
  batchSize: 64,
  optimizer: 'adam',
  lr: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
  loss: 'non-saturating',
  labelSmoothing: 0,
  clip: 0.01,
  gpWeight: 10,
  nCritic: 1,
  unrolled: 0,
  featureMatching: false,
  out: null,
  overwrite: false,
  seed: 1,
  backend: 'auto',
  threads: null,
  resume: null,
  sampleEvery: 100,
  checkpointEvery: 500,
  logEvery: 10,
  keepCheckpoints: 3,
  workers: 1,
  minWorkers: 0,
  wire: 'fp32',
  transport: 'tcp',
  opTimeoutMs: 10000,
  heartbeatMs: 1000,
  hashEvery: 50,
  maxRestarts: 0,
} satisfies TrainConfig);

/**
 * Defaults that depend on the model, chosen from measurements (README "Quality"): a field the user does not set
 * takes its model's value here, else DEFAULT_CONFIG's. The MLP is the 2-D toy model: it trains on ring8 by default,
 * and with the DCGAN's lr, batch and step count it captured 2 of 8 modes with 0.2 % high-quality samples.
 */
export const MODEL_DEFAULTS: Readonly<{ [M in TrainConfig['model']]: Readonly<Partial<TrainConfig>> }> = Object.freeze({
  dcgan: Object.freeze({}),
  mlp: Object.freeze({ dataset: 'ring8', batchSize: 256, lr: 5e-4, steps: 8000 } satisfies Partial<TrainConfig>),
});

/** Every field's default for `model`: DEFAULT_CONFIG with that model's MODEL_DEFAULTS over it. */
export function defaultsFor(model: TrainConfig['model']): TrainConfig {
  return { ...DEFAULT_CONFIG, ...MODEL_DEFAULTS[model], model };
}

type Spec = Omit<ConfigFieldSpec, 'flag'>;
const pos = (help: string, fingerprint: boolean): Spec => ({ type: 'int', min: 1, help, fingerprint });
const nonneg = (help: string, fingerprint: boolean): Spec => ({ type: 'int', min: 0, help, fingerprint });

const SPECS: { [K in ConfigKey]: Spec } = {
  model: { type: 'enum', values: ['dcgan', 'mlp'], help: 'generator/discriminator architecture', fingerprint: true },
  dataset: {
    type: 'enum',
    values: ['shapes', 'ring8', 'grid25', 'mnist', 'fashion-mnist', 'kmnist', 'cifar10', 'folder'],
    help: 'training data (the first three are synthetic)',
    fingerprint: true,
  },
  dataRoot: { type: 'string', nullable: true, metavar: 'PATH', help: 'directory of a real dataset or image folder', fingerprint: false },
  download: { type: 'boolean', help: 'download the dataset into --data-root if missing', fingerprint: false },
  allowHttp: { type: 'boolean', help: 'let --download fetch over plain http (default: https only)', fingerprint: false },
  dropLast: { type: 'boolean', help: 'drop the last incomplete batch of an epoch', fingerprint: true },
  skipBadImages: { type: 'boolean', help: 'skip unreadable images in a folder instead of failing', fingerprint: false },
  imageSize: { type: 'enum', values: [28, 32, 64], help: 'image side in pixels', fingerprint: true },
  channels: { type: 'enum', values: [1, 3], help: 'image channels (1 = grayscale, 3 = RGB)', fingerprint: true },
  nz: pos('latent vector size', true),
  ngf: pos('generator base width (DCGAN: top layer has 8*ngf channels)', true),
  ndf: pos('discriminator base width', true),
  norm: { type: 'enum', values: ['batch', 'none'], help: 'normalization layers', fingerprint: true },
  spectralNorm: {
    type: 'boolean', fingerprint: true,
    help: 'spectral normalization of D\'s conv and linear weights (Miyato et al.; as torch.nn.utils.spectral_norm)',
  },
  mlpHidden: pos('hidden units of the MLP model', true),
  steps: pos('training steps', true),
  batchSize: pos('batch size per worker', true),
  optimizer: {
    type: 'enum', values: ['adam', 'rmsprop'], fingerprint: true,
    help: 'optimiser of both nets: adam, or rmsprop as in the WGAN paper (alpha 0.99, eps 1e-8; only --lr applies)',
  },
  lr: { type: 'number', min: 0, minExclusive: true, help: 'learning rate (adam and rmsprop)', fingerprint: true },
  beta1: { type: 'number', min: 0, max: 1, maxExclusive: true, help: 'Adam beta1', fingerprint: true },
  beta2: { type: 'number', min: 0, max: 1, maxExclusive: true, help: 'Adam beta2', fingerprint: true },
  loss: {
    type: 'enum', values: ['non-saturating', 'minimax', 'hinge', 'wgan', 'wgan-gp'], fingerprint: true,
    help: 'GAN objective: non-saturating/minimax BCE (the document\'s), hinge, wgan (with --clip) or wgan-gp (with --gp-weight)',
  },
  labelSmoothing: {
    type: 'number', min: 0, max: 0.5, maxExclusive: true,
    help: 'one-sided label smoothing: real label = 1 - value (BCE losses)', fingerprint: true,
  },
  clip: {
    type: 'number', min: 0, minExclusive: true, fingerprint: true,
    help: 'wgan: clamp D\'s weights to [-X, X] after every D update',
  },
  gpWeight: {
    type: 'number', min: 0, fingerprint: true,
    help: 'wgan-gp: weight of the gradient penalty E[(|grad D(x)| - 1)^2] on random real/fake interpolates (needs --norm none)',
  },
  nCritic: pos('D updates per G update, each on a fresh batch (WGAN\'s n_critic)', true),
  unrolled: nonneg('unrolled GAN (Metz et al., first-order): G\'s loss against a copy of D advanced by K more D updates on fresh batches (0 = off)', true),
  featureMatching: {
    type: 'boolean', fingerprint: true,
    help: 'G matches the batch means of D\'s last hidden features on real data (Salimans et al.) instead of --loss\'s G objective',
  },
  out: {
    type: 'string', nullable: true, metavar: 'DIR', fingerprint: false,
    help: 'run directory (checkpoints, samples, metrics, config.json); default: a fresh runs/<date>-<time>',
  },
  overwrite: { type: 'boolean', help: 'replace the run an existing --out holds instead of refusing', fingerprint: false },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, help: 'random seed', fingerprint: true },
  backend: {
    type: 'enum', values: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'],
    help: 'TF.js backend', fingerprint: false,
  },
  threads: {
    type: 'int', min: 1, nullable: true, fingerprint: false,
    help: 'compute threads per process (optimiser update, wasm XNNPACK pool; default: all cores for train and worker, cores / workers for local)',
  },
  resume: {
    type: 'string', nullable: true, metavar: 'PATH',
    help: 'checkpoint file, or run directory (its latest valid checkpoint)', fingerprint: false,
  },
  sampleEvery: nonneg('write a sample grid every N steps (0 = off)', false),
  checkpointEvery: nonneg('write a checkpoint every N steps (0 = off)', false),
  logEvery: pos('log metrics every N steps', false),
  keepCheckpoints: pos('checkpoints to keep', false),
  workers: pos('number of data-parallel workers', false),
  minWorkers: nonneg('keep training while at least N workers are alive (0 = all)', false),
  wire: { type: 'enum', values: ['fp32', 'fp16', 'bf16'], help: 'gradient encoding on the wire', fingerprint: true },
  transport: {
    type: 'enum', values: ['tcp', 'grpc'], fingerprint: false,
    help: 'bulk gradient path between workers: tcp (data channel, ~4x faster) or grpc (HTTP/2 Pull streams)',
  },
  opTimeoutMs: pos('collective operation timeout (ms)', false),
  heartbeatMs: pos('heartbeat interval (ms)', false),
  hashEvery: nonneg('compare parameter hashes across workers every N steps (0 = off)', true),
  maxRestarts: nonneg('restarts of a failed worker before giving up', false),
};

/** Metadata of every config field, in help order. */
export const CONFIG_FIELDS: Readonly<{ [K in ConfigKey]: Readonly<ConfigFieldSpec> }> = Object.freeze(
  Object.fromEntries(
    Object.entries(SPECS).map(([k, s]) => [k, Object.freeze({ ...s, flag: flagName(k) })]),
  ) as { [K in ConfigKey]: ConfigFieldSpec },
);

export const CONFIG_KEYS = Object.freeze(Object.keys(SPECS) as ConfigKey[]);

/** The fields every worker of a run must agree on, in sorted order. */
export const FINGERPRINT_FIELDS: readonly ConfigKey[] = Object.freeze(
  CONFIG_KEYS.filter((k) => CONFIG_FIELDS[k].fingerprint).sort(),
);
