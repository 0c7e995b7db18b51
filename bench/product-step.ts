/**
 * The product's training step as bench/step-time.ts times it: the bench's cases (a model preset and a batch), the
 * state the trainer builds for them (@gan/model's GAN and two Adams, from a TrainConfig through @gan/training's
 * modelConfigOf) and a loop over @gan/training's exported trainStep — the function `gan-train train` and every
 * worker call per step — with a world-of-one reducer, plus one step under tf.profile (time per kernel name), and on
 * webgpu the dispatches, read-backs and uploads of each timed step (./webgpu-counters).
 * Not runnable by itself; bench/product-step.test.ts checks that the step timed here is the trainer's
 * (node tools/run-tests.mjs bench).
 */
import * as tf from '@tensorflow/tfjs-core';
import { defaultsFor, type TrainConfig } from '@gan/config';
import { buildGan, createOptimizer, disposeGan, syncHostCopies, type ModelConfig } from '@gan/model';
import { LocalReducer, batchNoise, modelConfigOf, trainStep, type StepOptions, type TrainState } from '@gan/training';
import { countWebgpu, diffCounts, type StepCounts } from './webgpu-counters';

/** The step the bench times: the trainer's own, imported from its lib (never a copy). */
export const PRODUCT_STEP = trainStep;

/** Model presets, as overrides of the run defaults (so `default` is what `gan-train train` builds with no flags). */
export const PRESETS = {
  /** The source document's DCGAN: 64×64×3, nz 100, ngf 128, ndf 64. */
  default: {},
  /** The small DCGAN: 32×32×1, G 100→256·4·4→128→64→1, D 32→64→128. */
  small: { imageSize: 32, channels: 1, ngf: 64, ndf: 32 },
  /** The 2-D toy MLP GAN (hidden 128). */
  mlp: { model: 'mlp' },
} as const satisfies Record<string, Partial<TrainConfig>>;

export type PresetName = keyof typeof PRESETS;

export interface BenchCase {
  /** `<preset>/<batch>`, e.g. `default/16`. */
  name: string;
  preset: PresetName;
  /** The run config the trainer would get for this case (defaults + preset + batch size). */
  config: TrainConfig;
  model: ModelConfig;
}

/** Parses `default/16,small/64,mlp/256` (preset names are case-insensitive); one-line error naming a bad case. */
export function parseCases(spec: string): BenchCase[] {
  return spec.split(',').map((raw) => {
    const m = /^([a-zA-Z]+)\/(\d+)$/.exec(raw.trim());
    const preset = m?.[1].toLowerCase();
    const batch = Number(m?.[2]);
    if (!m || !preset || !Object.hasOwn(PRESETS, preset) || !Number.isInteger(batch) || batch < 2) {
      throw new Error(`bad case '${raw}': want <${Object.keys(PRESETS).join('|')}>/<batch ≥ 2>, e.g. default/16`);
    }
    const over: Partial<TrainConfig> = PRESETS[preset as PresetName];
    const config: TrainConfig = { ...defaultsFor(over.model ?? 'dcgan'), ...over, batchSize: batch };
    return { name: `${preset}/${batch}`, preset: preset as PresetName, config, model: modelConfigOf(config) };
  });
}

export interface KernelTime {
  name: string;
  /** Summed kernel time over the profiled step, milliseconds. */
  ms: number;
  /** How many times the kernel ran in that step. */
  count: number;
}

export interface StepProfile {
  /** Wall time of the profiled step (profiling adds a little), milliseconds. */
  stepMs: number;
  /** Sum over every kernel; the rest of stepMs is JavaScript: flat gradient copies, Adam, tensor uploads. */
  kernelMs: number;
  kernels: number;
  /** The `top` kernel names by summed time, largest first. */
  top: KernelTime[];
}

export interface CaseTiming {
  /** Seconds of each timed step. */
  times: number[];
  lossD: number;
  lossG: number;
  profile?: StepProfile;
  /** webgpu only: what the last timed step dispatched, read back and uploaded. */
  counts?: StepCounts;
  /** webgpu only: false when the timed steps' counts differ (then `counts` is the last step's). */
  countsSteady?: boolean;
  /** webgpu only, when the counts differ: every timed step's, in order. */
  countsPerStep?: StepCounts[];
}

export interface TimingOptions {
  steps: number;
  warmup: number;
  /** Keep timing past `steps` until this many seconds are timed (at most 50 × steps). */
  minSeconds?: number;
  /** Profile one extra, untimed step after the warm-up and keep this many kernel names (0 or absent: none). */
  profileTop?: number;
}

/** Sums tf.profile's kernel records per kernel name; the `top` largest by time. */
export function topKernels(records: readonly { name: string; kernelTimeMs: number }[], top: number): KernelTime[] {
  const by = new Map<string, KernelTime>();
  for (const r of records) {
    const k = by.get(r.name) ?? { name: r.name, ms: 0, count: 0 };
    k.ms += r.kernelTimeMs;
    k.count += 1;
    by.set(r.name, k);
  }
  return [...by.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
}

/**
 * Builds the case's GAN and Adams as the trainer does, runs `warmup` untimed steps of PRODUCT_STEP on the active
 * backend, the profiled one if asked, then the timed ones, each with the trainer's per-step work around it (the
 * real batch and z uploaded as tensors, z from the trainer's seeded noise, and after the step the host copies of
 * both nets brought up to date, as the trainer's loop does before its checkpoints and broadcasts). Throws if a step
 * leaks tensors.
 */
export async function timeProductStep(c: BenchCase, opts: TimingOptions): Promise<CaseTiming> {
  const { config } = c;
  const gan = buildGan(c.model, config.seed);
  const opt = { optimizer: config.optimizer, lr: config.lr, beta1: config.beta1, beta2: config.beta2 };
  const st: TrainState = { gan, optG: createOptimizer(gan.g, opt), optD: createOptimizer(gan.d, opt), step: 0 };
  const stepOpts: StepOptions = { realLabel: 1 - config.labelSmoothing, loss: config.loss };
  const reducer = new LocalReducer();
  const B = config.batchSize;
  const sampleShape = c.model.model === 'mlp' ? [c.model.dataDim] : [config.imageSize, config.imageSize, config.channels];
  // One fixed real batch in [-1, 1]: data loading is not what this bench times (the trainer prefetches it).
  const realData = tf.tidy(() => tf.randomUniform([B, ...sampleShape], -1, 1, 'float32', 3).dataSync() as Float32Array);
  const one = async () => {
    const real = tf.tensor(realData, [B, ...sampleShape]);
    const z = tf.tensor2d(batchNoise(config.seed, st.step, 0, B, config.nz), [B, config.nz]);
    try {
      const r = await PRODUCT_STEP(st, real, z, reducer, stepOpts);
      st.step += 1;
      // The trainer's syncHost after every step: Adam left the weights current on the host, so this reads the
      // BatchNorm running statistics (asynchronously: the read-backs a webgpu step costs beyond the gradients').
      await syncHostCopies(gan.g);
      await syncHostCopies(gan.d);
      return { lossD: r.d.dLoss, lossG: r.g.gLoss };
    } finally {
      real.dispose();
      z.dispose();
    }
  };
  try {
    // As the trainer does before its first step: host copies of the fresh weights, read asynchronously, so that
    // the first Adam update never reads the device synchronously (webgpu under Node cannot).
    await syncHostCopies(gan.g);
    await syncHostCopies(gan.d);
    const times: number[] = [];
    let last = { lossD: NaN, lossG: NaN };
    for (let i = 0; i < opts.warmup; i++) last = await one();
    const before = tf.memory().numTensors;
    let profile: StepProfile | undefined;
    // The profiled step runs after the warm-up, untimed: profiling slows the step a little, and one step is enough
    // to rank the kernels.
    if (opts.profileTop) {
      const t0 = performance.now();
      const info = await tf.profile(one);
      const stepMs = performance.now() - t0;
      // tf.profile also records scopes (customGrad's 'forward', tidy scopes) that wrap kernels already counted: only
      // names the backend has a kernel for are kept. Their times are awaited by now; {error} (no timer) counts 0.
      const backend = tf.getBackend();
      const records = info.kernels
        .filter((k) => tf.getKernel(k.name, backend) != null)
        .map((k) => ({ name: k.name, kernelTimeMs: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0 }));
      profile = {
        stepMs,
        kernelMs: sum(records.map((r) => r.kernelTimeMs)),
        kernels: records.length,
        top: topKernels(records, opts.profileTop),
      };
    }
    const minSeconds = opts.minSeconds ?? 0;
    // The counters wrap the backend's own methods with a counter increment each (nanoseconds against a step of
    // milliseconds), so the timed steps are also the counted ones.
    const counter = tf.getBackend() === 'webgpu' ? countWebgpu(tf.backend()) : undefined;
    const perStep: StepCounts[] = [];
    try {
      while (times.length < opts.steps || (sum(times) < minSeconds && times.length < 50 * opts.steps)) {
        const at = counter && { ...counter.totals };
        const t0 = performance.now();
        last = await one();
        times.push((performance.now() - t0) / 1000);
        if (counter && at) perStep.push(diffCounts(counter.totals, at));
      }
    } finally {
      counter?.stop();
    }
    const counts = perStep.at(-1);
    const countsSteady = counts && perStep.every((k) => JSON.stringify(k) === JSON.stringify(counts));
    // Adam's moments live on the host, so a step that keeps nothing leaves the tensor count where it was.
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) throw new Error(`${c.name}: the training step leaks ${leaked} tensors over ${times.length} steps`);
    return { times, ...last, profile, counts, countsSteady, countsPerStep: countsSteady === false ? perStep : undefined };
  } finally {
    disposeGan(gan);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
