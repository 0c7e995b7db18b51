/**
 * ModelConfig (the model part of the run config) and the DCGAN family rule that turns an image size into a stack
 * of stride-2 stages. Not a runnable file.
 */

/** Which networks to build and how wide. Fields a model kind does not use are ignored (but still validated). */
export interface ModelConfig {
  /** 'dcgan': conv nets on NHWC images; 'mlp': fully connected nets on `dataDim`-vectors (2-D toy data). */
  model: 'dcgan' | 'mlp';
  /** DCGAN image side: 28, or 4·2^k with k ≥ 1 (8, 16, 32, 64, 128, …). */
  imageSize: number;
  /** DCGAN image channels. */
  channels: 1 | 3;
  /** Latent size (both kinds). */
  nz: number;
  /** G base width: the last hidden conv-transpose layer has ngf channels, each earlier stage doubles it. */
  ngf: number;
  /** D base width: the first conv has ndf channels, each later stage doubles it. */
  ndf: number;
  /** 'batch': BatchNorm after G's linear and every hidden G/D conv except D's first; 'none': no BN at all. */
  norm: 'batch' | 'none';
  /** MLP hidden width. */
  mlpHidden: number;
  /** MLP data dimension (2 for the 2-D toy mixtures). */
  dataDim: number;
  /**
   * Spectral normalization of every D conv and linear weight (Miyato et al.; spectral-norm.ts). Adds two buffers per
   * such layer (`weight_u`, `weight_v`). Default false.
   */
  spectralNorm?: boolean;
}

/** The resolved DCGAN layout. */
export interface DcganPlan {
  /** Spatial size after G's linear layer (and of D's last feature map). */
  s0: number;
  /** Number of stride-2 stages. */
  stages: number;
  /** G channel widths: [ngf·2^(k-1), …, ngf, channels] (k+1 entries). */
  gWidths: number[];
  /** D channel widths: [channels, ndf, 2·ndf, …, ndf·2^(k-1)] (k+1 entries). */
  dWidths: number[];
}

function posInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`model config: ${name} must be a positive integer, got ${String(v)}`);
  }
}

/** Throws a one-line error naming the first bad field. */
export function validateModelConfig(cfg: ModelConfig): void {
  if (cfg == null || typeof cfg !== 'object') throw new Error('model config: expected an object');
  if (cfg.model !== 'dcgan' && cfg.model !== 'mlp') {
    throw new Error(`model config: model must be 'dcgan' or 'mlp', got ${String(cfg.model)}`);
  }
  posInt('nz', cfg.nz);
  if (cfg.spectralNorm !== undefined && typeof cfg.spectralNorm !== 'boolean') {
    throw new Error(`model config: spectralNorm must be a boolean, got ${String(cfg.spectralNorm)}`);
  }
  if (cfg.model === 'mlp') {
    posInt('mlpHidden', cfg.mlpHidden);
    posInt('dataDim', cfg.dataDim);
    return;
  }
  if (cfg.channels !== 1 && cfg.channels !== 3) {
    throw new Error(`model config: channels must be 1 or 3, got ${String(cfg.channels)}`);
  }
  posInt('ngf', cfg.ngf);
  posInt('ndf', cfg.ndf);
  if (cfg.norm !== 'batch' && cfg.norm !== 'none') {
    throw new Error(`model config: norm must be 'batch' or 'none', got ${String(cfg.norm)}`);
  }
  dcganPlan(cfg);
}

/**
 * The family rule: s0 = 4 when imageSize/4 is a power of two ≥ 2 (imageSize = 4·2^k, k stages), s0 = 7 for 28
 * (2 stages); anything else cannot be reached by exact stride-2 doubling from those starts.
 */
export function dcganPlan(cfg: Pick<ModelConfig, 'imageSize' | 'channels' | 'ngf' | 'ndf'>): DcganPlan {
  const n = cfg.imageSize;
  let s0: number;
  let stages: number;
  if (n === 28) {
    s0 = 7;
    stages = 2;
  } else if (Number.isInteger(n) && n >= 8 && n % 4 === 0 && isPow2(n / 4)) {
    s0 = 4;
    stages = Math.round(Math.log2(n / 4));
  } else {
    throw new Error(
      `image size ${String(n)} cannot be made by this architecture: use 28 or 4·2^k (8, 16, 32, 64, 128, …)`,
    );
  }
  const gWidths: number[] = [];
  for (let i = stages - 1; i >= 0; i--) gWidths.push(cfg.ngf * 2 ** i);
  gWidths.push(cfg.channels);
  const dWidths: number[] = [cfg.channels];
  for (let i = 0; i < stages; i++) dWidths.push(cfg.ndf * 2 ** i);
  return { s0, stages, gWidths, dWidths };
}

function isPow2(x: number): boolean {
  return Number.isInteger(x) && x >= 2 && (x & (x - 1)) === 0;
}
