/**
 * Everything a run must save to continue bit-exactly — weights, buffers (BN running statistics, spectral-norm
 * vectors), both optimiser states, the step and the resolved config — as safetensors tensors plus string metadata,
 * and back. Also the model-config mapping
 * shared by the trainer, eval and the workers.
 */
import {
  bufferCount, getFlatBuffers, loadOptimizerState, namedWeights, OPTIMIZER_SLOTS, optimizerState, paramCount, setFlatBuffers,
  setFlatWeights,
  type Gan, type ModelConfig, type Optimizer, type ReadBuffer,
} from '@gan/model';
import { validateConfig, type TrainConfig } from '@gan/config';

export const CHECKPOINT_FORMAT = 'gan-train/1';

/** The architecture part of a run config (what a checkpoint's weights depend on). */
export function modelConfigOf(c: TrainConfig): ModelConfig {
  return {
    model: c.model, imageSize: c.imageSize, channels: c.channels, nz: c.nz, ngf: c.ngf, ndf: c.ndf,
    norm: c.norm, mlpHidden: c.mlpHidden, dataDim: 2, spectralNorm: c.spectralNorm,
  };
}

const ARCH_FIELDS = ['model', 'imageSize', 'channels', 'nz', 'ngf', 'ndf', 'norm', 'mlpHidden', 'spectralNorm'] as const;

export interface TrainState {
  gan: Gan;
  /** G's and D's optimisers (--optimizer). */
  optG: Optimizer;
  optD: Optimizer;
  /** Number of completed steps. */
  step: number;
  /**
   * The host arrays each phase's gradient read-back reuses (./train-step makes them on first use; the unrolled D
   * updates of --unrolled have their own): the step's DGradResult / GGradResult gradients are views of them, valid
   * until the next step reads into them.
   */
  reads?: { d: ReadBuffer; g: ReadBuffer; unrolled: ReadBuffer };
}

export interface SavedTensor {
  name: string;
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

/** Tensors and metadata for one checkpoint. */
export function serializeState(s: TrainState, config: TrainConfig): { tensors: SavedTensor[]; metadata: Record<string, string> } {
  const tensors: SavedTensor[] = [];
  for (const net of [s.gan.g, s.gan.d]) {
    for (const w of namedWeights(net)) tensors.push({ name: w.name, dtype: 'F32', shape: w.shape, data: w.data });
  }
  const gb = getFlatBuffers(s.gan.g);
  const db = getFlatBuffers(s.gan.d);
  tensors.push({ name: 'buffers.g', dtype: 'F32', shape: [gb.length], data: gb });
  tensors.push({ name: 'buffers.d', dtype: 'F32', shape: [db.length], data: db });
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, step: String(s.step) };
  // `<kind>.<net>.<slot>` and `<kind>_<net>_step`: an Adam run's names are those of checkpoints made before
  // --optimizer existed, which therefore resume as Adam runs.
  for (const [tag, opt] of [['g', s.optG], ['d', s.optD]] as const) {
    const st = optimizerState(opt);
    for (const [slot, data] of Object.entries(st.slots)) tensors.push({ name: `${st.kind}.${tag}.${slot}`, dtype: 'F32', shape: [data.length], data });
    metadata[`${st.kind}_${tag}_step`] = String(st.step);
  }
  metadata.optimizer = s.optD.kind;
  metadata.config = JSON.stringify(config);
  return { tensors, metadata };
}

export interface LoadedCheckpoint {
  path?: string;
  tensors: Map<string, { shape: number[]; data: ArrayLike<number> | Float32Array }>;
  metadata: Record<string, string>;
}

/** The config stored in a checkpoint, validated (unknown keys fail). */
export function checkpointConfig(ckpt: LoadedCheckpoint, where: string): TrainConfig {
  if (ckpt.metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${where} is not a gan-train checkpoint (format ${JSON.stringify(ckpt.metadata.format ?? null)}, expected ${CHECKPOINT_FORMAT})`);
  }
  try {
    return validateConfig(JSON.parse(ckpt.metadata.config ?? 'null'));
  } catch (e) {
    throw new Error(`${where} holds an invalid config: ${(e as Error).message}`);
  }
}

/** Refuses a checkpoint of another architecture with a message naming the first differing field. */
export function assertSameArchitecture(saved: TrainConfig, now: TrainConfig, where: string): void {
  for (const f of ARCH_FIELDS) {
    if (saved.model === 'mlp' && now.model === 'mlp' && ['imageSize', 'channels', 'ngf', 'ndf', 'norm'].includes(f)) continue;
    if (saved[f] !== now[f]) {
      throw new Error(`${where} was made for another architecture: ${f} is ${JSON.stringify(saved[f])} there and ${JSON.stringify(now[f])} now`);
    }
  }
}

function tensorData(ckpt: LoadedCheckpoint, name: string, length: number, where: string): Float32Array {
  const t = ckpt.tensors.get(name);
  if (!t) throw new Error(`${where} lacks tensor '${name}'`);
  if (t.data.length !== length) throw new Error(`${where}: tensor '${name}' has ${t.data.length} values, the model needs ${length}`);
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
}

/** Loads weights, buffers and optimizer state into an already built state of the same architecture. */
export function restoreState(s: TrainState, ckpt: LoadedCheckpoint, where: string): void {
  // Optimiser state does not carry over between kinds (Adam's moments are not RMSprop's square average).
  const saved = ckpt.metadata.optimizer ?? 'adam';
  if (saved !== s.optD.kind) {
    throw new Error(`${where} holds ${saved} optimizer state and this run uses --optimizer ${s.optD.kind}: resume with --optimizer ${saved}, or start a new run`);
  }
  // Names and sizes come from the nets' variables, never their values: a fresh net's weights are not on the host,
  // and reading them would be a synchronous device read (which webgpu under Node cannot do).
  for (const net of [s.gan.g, s.gan.d]) {
    const flat = new Float32Array(paramCount(net));
    let off = 0;
    for (const p of net.params) {
      flat.set(tensorData(ckpt, p.name, p.variable.size, where), off);
      off += p.variable.size;
    }
    setFlatWeights(net, flat);
  }
  setFlatBuffers(s.gan.g, tensorData(ckpt, 'buffers.g', bufferCount(s.gan.g), where));
  setFlatBuffers(s.gan.d, tensorData(ckpt, 'buffers.d', bufferCount(s.gan.d), where));
  for (const [tag, opt] of [['g', s.optG], ['d', s.optD]] as const) {
    const n = paramCount(tag === 'g' ? s.gan.g : s.gan.d);
    const slots: Record<string, Float32Array> = {};
    for (const slot of OPTIMIZER_SLOTS[opt.kind]) slots[slot] = tensorData(ckpt, `${opt.kind}.${tag}.${slot}`, n, where);
    loadOptimizerState(opt, { kind: opt.kind, step: Number(ckpt.metadata[`${opt.kind}_${tag}_step`]), slots });
  }
  const step = Number(ckpt.metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`${where} has an invalid step ${JSON.stringify(ckpt.metadata.step)}`);
  s.step = step;
}
