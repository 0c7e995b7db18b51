// bench/gpu-step.ts's self-contained DCGAN training step on raw TF.js ops (D step + G step, Adam as tensor ops), and
// its PyTorch twin's runner (bench/torch_step.py --config seed|small). This is NOT the product's step: it has no
// linear layers and no biases, and it keeps Adam on the device. It stays because the GPU bench is bundled with
// esbuild for the lent GPU machine, where the product's libs (data, checkpoint, native image codecs) are not
// wanted; the CPU bench (bench/step-time.ts) times the product's own step. Not runnable by itself.
// Per step, on both sides:
//   D step: fakes = G(z) without a tape; loss_D = BCE(D(real), 1) + BCE(D(fakes), 0); backward over D; Adam on D.
//   G step: loss_G = BCE(D(G(z)), 1) (D frozen: no D weight gradients); backward over G; Adam on G.
// BN runs in training mode (batch statistics; running averages are not tracked: a few element-wise ops).
// Configs: "seed" = the source document's sizes (3×64×64, nz 100, ngf 128, ndf 64); "small" = 1×32×32,
// G 100→256·4·4→128→64→1, D 32→64→128 (ngf 64, ndf 32).
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';

export interface DcganConfig {
  name: string;
  /** Image channels, side length (a power of two ≥ 8). */
  nc: number;
  size: number;
  nz: number;
  ngf: number;
  ndf: number;
}

export const CONFIGS: Record<string, DcganConfig> = {
  seed: { name: 'seed', nc: 3, size: 64, nz: 100, ngf: 128, ndf: 64 },
  small: { name: 'small', nc: 1, size: 32, nz: 100, ngf: 64, ndf: 32 },
};

interface Layer {
  /** conv2dTranspose filter [4,4,out,in] (G) or conv2d filter [4,4,in,out] (D). */
  w: tf.Variable;
  /** BN scale and shift [C], absent on the first D layer and on the output layers. */
  gamma?: tf.Variable;
  beta?: tf.Variable;
  /** Output shape [H, W, C] of this layer (per example). */
  out: [number, number, number];
  stride: number;
  pad: number | 'valid';
}

export interface Dcgan {
  cfg: DcganConfig;
  g: Layer[];
  d: Layer[];
  gVars: tf.Variable[];
  dVars: tf.Variable[];
}

function layer(name: string, shape: [number, number, number, number], out: [number, number, number], stride: number, pad: number | 'valid', bn: boolean, seed: number): Layer {
  const w = tf.variable(tf.randomNormal(shape, 0, 0.02, 'float32', seed), true, `${name}/w`);
  const c = out[2];
  if (!bn) return { w, out, stride, pad };
  const gamma = tf.variable(tf.randomNormal([c], 1, 0.02, 'float32', seed + 1), true, `${name}/gamma`);
  const beta = tf.variable(tf.zeros([c]), true, `${name}/beta`);
  return { w, gamma, beta, out, stride, pad };
}

/** Builds G and D (the PyTorch DCGAN layout: 4×4 kernels, no conv biases, BN on hidden layers). */
export function buildDcgan(cfg: DcganConfig, seed = 1): Dcgan {
  const ups = Math.log2(cfg.size / 4);
  if (!Number.isInteger(ups) || ups < 1) throw new Error(`DCGAN size must be 4·2^k with k ≥ 1, got ${cfg.size}`);
  const g: Layer[] = [];
  let c = cfg.ngf * 2 ** (ups - 1);
  g.push(layer('g0', [4, 4, c, cfg.nz], [4, 4, c], 1, 'valid', true, seed));
  let s = 4;
  for (let i = 1; i < ups; i++) {
    s *= 2;
    g.push(layer(`g${i}`, [4, 4, c / 2, c], [s, s, c / 2], 2, 1, true, seed + 10 * i));
    c /= 2;
  }
  g.push(layer(`g${ups}`, [4, 4, cfg.nc, c], [cfg.size, cfg.size, cfg.nc], 2, 1, false, seed + 10 * ups));
  const d: Layer[] = [];
  c = cfg.ndf;
  s = cfg.size / 2;
  d.push(layer('d0', [4, 4, cfg.nc, c], [s, s, c], 2, 1, false, seed + 100));
  for (let i = 1; i < ups; i++) {
    s /= 2;
    d.push(layer(`d${i}`, [4, 4, c, c * 2], [s, s, c * 2], 2, 1, true, seed + 100 + 10 * i));
    c *= 2;
  }
  d.push(layer(`d${ups}`, [4, 4, c, 1], [1, 1, 1], 1, 'valid', false, seed + 100 + 10 * ups));
  const vars = (ls: Layer[]) => ls.flatMap((l) => [l.w, ...(l.gamma ? [l.gamma, l.beta!] : [])]);
  return { cfg, g, d, gVars: vars(g), dVars: vars(d) };
}

/** Training-mode batch norm over N,H,W. x [N,H,W,C]. */
function bn(x: tf.Tensor4D, l: Layer): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, l.beta as tf.Tensor1D, l.gamma as tf.Tensor1D, 1e-5);
}

/** G: z [N,nz] → images [N,size,size,nc] in (-1,1). */
export function generate(m: Dcgan, z: tf.Tensor2D): tf.Tensor4D {
  const n = z.shape[0];
  let h = tf.reshape(z, [n, 1, 1, m.cfg.nz]) as tf.Tensor4D;
  m.g.forEach((l, i) => {
    h = tf.conv2dTranspose(h, l.w as tf.Tensor4D, [n, ...l.out], l.stride, l.pad);
    h = i < m.g.length - 1 ? tf.relu(bn(h, l)) : tf.tanh(h);
  });
  return h;
}

/** D: images [N,size,size,nc] → logits [N]. */
export function discriminate(m: Dcgan, x: tf.Tensor4D): tf.Tensor1D {
  let h = x;
  m.d.forEach((l, i) => {
    h = tf.conv2d(h, l.w as tf.Tensor4D, l.stride, l.pad);
    if (i < m.d.length - 1) h = tf.leakyRelu(l.gamma ? bn(h, l) : h, 0.2);
  });
  return tf.reshape(h, [x.shape[0]]) as tf.Tensor1D;
}

/** Mean binary cross-entropy on logits against a constant label (the stable softplus form). */
function bce(logits: tf.Tensor1D, label: 0 | 1): tf.Scalar {
  return tf.mean(tf.softplus(label === 1 ? tf.neg(logits) : logits)) as tf.Scalar;
}

/** Adam (lr 2e-4, β1 0.5, β2 0.999: the DCGAN settings) with per-variable moments. */
export class Adam {
  private m = new Map<string, tf.Variable>();
  private v = new Map<string, tf.Variable>();
  private t = 0;
  constructor(private lr = 2e-4, private b1 = 0.5, private b2 = 0.999, private eps = 1e-8) {}
  apply(vars: tf.Variable[], grads: Record<string, tf.Tensor>): void {
    this.t++;
    const c1 = 1 - this.b1 ** this.t;
    const c2 = 1 - this.b2 ** this.t;
    tf.tidy(() => {
      for (const p of vars) {
        const g = grads[p.name];
        if (!g) throw new Error(`no gradient for ${p.name}`);
        if (!this.m.has(p.name)) {
          this.m.set(p.name, tf.variable(tf.zerosLike(p), false));
          this.v.set(p.name, tf.variable(tf.zerosLike(p), false));
        }
        const m = this.m.get(p.name)!;
        const v = this.v.get(p.name)!;
        const m1 = tf.add(tf.mul(m, this.b1), tf.mul(g, 1 - this.b1));
        const v1 = tf.add(tf.mul(v, this.b2), tf.mul(tf.square(g), 1 - this.b2));
        m.assign(m1);
        v.assign(v1);
        const upd = tf.div(tf.mul(m1, this.lr / c1), tf.add(tf.sqrt(tf.div(v1, c2)), this.eps));
        p.assign(tf.sub(p, upd));
      }
    });
  }
}

export interface StepState {
  model: Dcgan;
  optD: Adam;
  optG: Adam;
  real: tf.Tensor4D;
  batch: number;
}

export function makeState(cfg: DcganConfig, batch: number): StepState {
  const model = buildDcgan(cfg);
  // The real batch stays fixed: data loading is not what this bench times.
  const real = tf.randomUniform([batch, cfg.size, cfg.size, cfg.nc], -1, 1, 'float32', 3) as tf.Tensor4D;
  return { model, optD: new Adam(), optG: new Adam(), real, batch };
}

/** One D step then one G step; returns the two losses (reading them waits for the backend to finish). */
export async function trainStep(s: StepState): Promise<{ lossD: number; lossG: number }> {
  const { model: m, batch } = s;
  const z1 = tf.randomNormal([batch, m.cfg.nz]) as tf.Tensor2D;
  const fakes = tf.tidy(() => generate(m, z1));
  const d = tf.variableGrads(() => tf.add(bce(discriminate(m, s.real), 1), bce(discriminate(m, fakes), 0)) as tf.Scalar, m.dVars);
  s.optD.apply(m.dVars, d.grads);
  tf.dispose([fakes, z1, ...Object.values(d.grads)]);
  const z2 = tf.randomNormal([batch, m.cfg.nz]) as tf.Tensor2D;
  const g = tf.variableGrads(() => bce(discriminate(m, generate(m, z2)), 1), m.gVars);
  s.optG.apply(m.gVars, g.grads);
  tf.dispose([z2, ...Object.values(g.grads)]);
  const [lossD, lossG] = [(await d.value.data())[0], (await g.value.data())[0]];
  tf.dispose([d.value, g.value]);
  return { lossD, lossG };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs warmup + steps training steps; returns each timed step's seconds. Throws if a step leaks tensors. */
export async function timeSteps(cfg: DcganConfig, batch: number, steps: number, warmup: number): Promise<{ times: number[]; lossD: number; lossG: number }> {
  const s = makeState(cfg, batch);
  const times: number[] = [];
  let last = { lossD: NaN, lossG: NaN };
  let afterFirst = 0;
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    last = await trainStep(s);
    if (i >= warmup) times.push((performance.now() - t0) / 1000);
    // The first step creates the Adam moments (2 per variable); after it nothing may accumulate.
    if (i === 0) afterFirst = tf.memory().numTensors;
  }
  const leaked = tf.memory().numTensors - afterFirst;
  if (leaked !== 0) throw new Error(`training step leaks: ${leaked} tensors over ${warmup + steps - 1} steps`);
  tf.dispose(s.real);
  tf.disposeVariables();
  return { times, ...last };
}

export interface TorchResult {
  median_s?: number;
  times?: number[];
  error?: string;
  torch?: string;
  threads?: number;
  blas?: string;
  device?: string;
}

/** Runs bench/torch_step.py --config (next to this file, or next to the bundle) and parses its last JSON line. */
export function runTorch(python: string, script: string, cfg: string, batch: number, steps: number, warmup: number, threads: number, device: 'cpu' | 'cuda', timeoutMs = 600_000): TorchResult {
  const r = spawnSync(python, [script, '--config', cfg, '--batch', String(batch), '--steps', String(steps), '--warmup', String(warmup), '--threads', String(threads), '--device', device], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
  });
  if (r.error) return { error: `${python}: ${r.error.message}` };
  const lines = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{'));
  if (r.status !== 0 || lines.length === 0) {
    const why = ((r.stderr ?? '').trim().split('\n').pop() ?? '') || `exit ${r.status}`;
    return { error: why };
  }
  return JSON.parse(lines[lines.length - 1]) as TorchResult;
}

export function parseCases(spec: string): { cfg: DcganConfig; batch: number }[] {
  return spec.split(',').map((c) => {
    const [name, b] = c.split(':');
    const cfg = CONFIGS[name];
    const batch = Number(b);
    if (!cfg || !Number.isInteger(batch) || batch < 1) throw new Error(`bad case '${c}': want <${Object.keys(CONFIGS).join('|')}>:<batch>`);
    return { cfg, batch };
  });
}

