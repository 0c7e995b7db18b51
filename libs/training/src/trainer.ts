/**
 * The training loop shared by the single-process trainer (`gan-train train`) and every distributed worker.
 * One step, in the source document's order:
 *   1. the rank's next batch x (its shard) and z seeded by (seed, step, global row);
 *   2. D phase: gD = ∇D [BCE(D(x), real) + BCE(D(G(z)), 0)] with fakes detached → all-reduce mean → Adam(D)
 *      (or RMSprop: --optimizer);
 *   3. G phase: gG = ∇G BCE(D(G(z)), 1) against the updated D → all-reduce mean → Adam(G) (with --unrolled K, against
 *      D advanced by K more all-reduced updates on batches of their own, then undone: ./unrolled-d);
 *   4. rank 0 broadcasts [stop flag, buffers: BN running statistics, spectral-norm vectors] (PyTorch DDP's
 *      broadcast_buffers);
 *   5. every `hashEvery` steps the ranks all-gather a hash of their weights; a mismatch stops the run loudly.
 * With the LocalReducer (world of one) every collective is the identity.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  buildGan, createOptimizer, disposeGan, getFlatBuffers, getFlatWeights, setFlatBuffers, setFlatWeights, optimizerState,
  loadOptimizerState, syncHostCopies,
} from '@gan/model';
import { openDataset, createBatchStream, type Dataset } from '@gan/data';
import { CheckpointManager } from '@gan/checkpoint';
import type { TrainConfig } from '@gan/config';
import { MetricsWriter, readPngHeader, TensorBoardWriter, writeImageGrid, writeScatterPlot } from '@gan/telemetry';
import { gpEpsilon } from './gp-epsilon';
import { globalRows, rowsNoise } from './global-rows';
import { productVersion, writeRunConfig } from './run-dir';
import { tensorboardScalars } from './tensorboard-scalars';
import { defaultSampleCount, sampleNoiseFor, writeSampleFile } from './sample-file';
import { criticStep, trainStep, type StepOptions, type StepOutcome } from './train-step';
import type { UnrollBatch } from './unrolled-d';
import { LocalReducer, PeerFailure, type Membership, type Reducer } from './reducer';
import {
  assertSameArchitecture, checkpointConfig, modelConfigOf, restoreState, serializeState,
  type LoadedCheckpoint, type TrainState,
} from './run-state';

export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** What one step cost and produced; timings in milliseconds. */
export interface StepRecord {
  step: number;
  d_loss: number;
  g_loss: number;
  d_real: number;
  d_fake: number;
  step_ms: number;
  compute_ms: number;
  /** Time inside collective calls, including waiting for slower peers to arrive. */
  allreduce_ms: number;
  data_wait_ms: number;
  /** Everything else: tensors in and out, BN buffer copies, the weight-hash check. */
  other_ms: number;
}

export interface TrainOptions {
  config: TrainConfig;
  logger: Log;
  /** Collectives across workers; default: a world of one. */
  reducer?: Reducer;
  /** Drawn on the chief only. */
  progress?: { update(step: number, fields: Record<string, number | string>): void; done(): void };
  /** Called on every rank after every step (a worker reports to its coordinator here). */
  onStep?: (r: StepRecord) => void | Promise<void>;
  /** Consulted on rank 0 after each step; the decision reaches the other ranks in the step's broadcast. */
  stopRequested?: () => boolean;
  /** Elastic workers: generations come from here (and `reducer` is ignored). */
  membership?: Membership;
}

export interface TrainResult {
  step: number;
  /** SHA-256 (hex) of G's and D's weights at the end: equal on every replica of a healthy run. */
  digest: string;
  stoppedEarly: boolean;
  out: string;
}

/** Raised when replicas diverge: names the ranks whose weights differ from rank 0's. */
export class ReplicaMismatchError extends Error {}

export async function loadResumeCheckpoint(resume: string, config: TrainConfig, logger: Log): Promise<LoadedCheckpoint> {
  // A run folder stands for its checkpoints/ folder.
  const sub = path.join(resume, 'checkpoints');
  if (fs.existsSync(sub) && fs.statSync(sub).isDirectory()) resume = sub;
  const mgr = new CheckpointManager(resume, { keep: config.keepCheckpoints, logger });
  const ckpt = (await mgr.load(resume)) as unknown as LoadedCheckpoint;
  const where = `checkpoint ${ckpt.path ?? resume}`;
  assertSameArchitecture(checkpointConfig(ckpt, where), config, where);
  return ckpt;
}

function weightsSha256(st: TrainState): Buffer {
  const h = createHash('sha256');
  for (const net of [st.gan.g, st.gan.d]) {
    const w = getFlatWeights(net);
    h.update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  }
  return h.digest();
}

/** 16-bit pieces of a SHA-256 of both networks' weights: exact in float32, so it survives an all-gather. */
export function weightsDigest(st: TrainState): Float32Array {
  const bytes = weightsSha256(st);
  const out = new Float32Array(8);
  for (let i = 0; i < 8; i++) out[i] = bytes.readUInt16LE(i * 2);
  return out;
}

function checkDataset(config: TrainConfig, ds: Dataset): void {
  const wantPoints = config.model === 'mlp';
  if (wantPoints !== (ds.kind === 'points')) {
    throw new Error(`dataset '${config.dataset}' holds ${ds.kind === 'points' ? '2-D points' : 'images'}: use --model ${ds.kind === 'points' ? 'mlp' : 'dcgan'}`);
  }
  if (ds.kind === 'image') {
    const [h, w, c] = ds.sampleShape;
    if (h !== config.imageSize || w !== config.imageSize || c !== config.channels) {
      throw new Error(`dataset '${config.dataset}' yields ${h}x${w}x${c} samples but the model expects ${config.imageSize}x${config.imageSize}x${config.channels}`);
    }
  }
}

/** Copies root's full training state (weights, buffers, optimisers) to every rank. */
async function broadcastState(st: TrainState, reducer: Reducer): Promise<void> {
  if (reducer.worldSize === 1) return;
  for (const net of [st.gan.g, st.gan.d]) {
    const w = getFlatWeights(net);
    await reducer.broadcast(w, 0);
    setFlatWeights(net, w);
    const b = getFlatBuffers(net);
    await reducer.broadcast(b, 0);
    setFlatBuffers(net, b);
  }
  for (const opt of [st.optG, st.optD]) {
    const s = optimizerState(opt);
    const stepBuf = new Float32Array([s.step, st.step]);
    await reducer.broadcast(stepBuf, 0);
    // Every rank runs the same --optimizer (a fingerprint field), so the slots match in kind, order and size.
    for (const slot of Object.values(s.slots)) await reducer.broadcast(slot, 0);
    loadOptimizerState(opt, { ...s, step: stepBuf[0] });
    st.step = stepBuf[1];
  }
}

/**
 * Host copies of both nets' weights and BatchNorm buffers, read asynchronously, so that the synchronous getters the
 * loop uses (snapshots, the buffers' broadcast, checkpoints, digests) never read the device synchronously, which a
 * GPU backend under Node (webgpu) cannot do. Cheap when nothing changed (after Adam, only the small BN buffers).
 */
async function syncHost(st: TrainState): Promise<void> {
  await syncHostCopies(st.gan.g);
  await syncHostCopies(st.gan.d);
}

async function writeSamples(st: TrainState, config: TrainConfig, ds: Dataset, file: string): Promise<void> {
  const n = defaultSampleCount(config);
  await writeSampleFile(st.gan, config, sampleNoiseFor(config, n, null), n, file, ds.modes);
}

async function writeRealSamples(config: TrainConfig, ds: Dataset, file: string): Promise<void> {
  const n = Math.min(config.model === 'mlp' ? 2500 : 64, ds.length);
  const idx = Array.from({ length: n }, (_, i) => Math.floor((i * ds.length) / n));
  const buf = new Float32Array(n * ds.sampleSize);
  await ds.read(idx, buf);
  if (config.model === 'mlp') writeScatterPlot(file, buf, { modes: ds.modes });
  else writeImageGrid(file, buf, { n, h: config.imageSize, w: config.imageSize, c: config.channels });
}

const pad6 = (n: number) => String(n).padStart(6, '0');

/** In-memory commit: everything needed to redo the next step from scratch on this rank. */
interface Snapshot {
  step: number;
  gW: Float32Array;
  dW: Float32Array;
  gB: Float32Array;
  dB: Float32Array;
  optG: ReturnType<typeof optimizerState>;
  optD: ReturnType<typeof optimizerState>;
}

function takeSnapshot(st: TrainState): Snapshot {
  return {
    step: st.step, gW: getFlatWeights(st.gan.g), dW: getFlatWeights(st.gan.d), gB: getFlatBuffers(st.gan.g),
    dB: getFlatBuffers(st.gan.d), optG: optimizerState(st.optG), optD: optimizerState(st.optD),
  };
}

function restoreSnapshot(st: TrainState, s: Snapshot): void {
  setFlatWeights(st.gan.g, s.gW);
  setFlatWeights(st.gan.d, s.dW);
  setFlatBuffers(st.gan.g, s.gB);
  setFlatBuffers(st.gan.d, s.dB);
  loadOptimizerState(st.optG, s.optG);
  loadOptimizerState(st.optD, s.optD);
  st.step = s.step;
}

const CONTROL = { go: 0, stop: 1, reform: 2 } as const;

/**
 * Trains until `config.steps` (or an agreed stop) and returns the final step. The rank 0 of the moment alone
 * writes under `config.out`: config.json, real_samples.png, fake_samples_step_NNNNNN.png, metrics.jsonl, checkpoints
 * and tb/ (TensorBoard event files holding what metrics.jsonl and the fake sample PNGs hold).
 *
 * With `membership` (elastic workers) the loop runs generation after generation: every completed step is
 * committed in memory; a PeerFailure discards the step in flight everywhere (each rank restores its commit), the
 * survivors form a new generation, whose rank 0 (the newest commit) broadcasts its state, and training goes on.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config, logger, membership } = opts;
  if (!config.out) throw new Error('train: config.out must name the run folder (the command resolves the default)');
  const out = path.resolve(config.out);

  const resumeCkpt = config.resume ? await loadResumeCheckpoint(config.resume, config, logger) : null;
  const ds = await openDataset({
    name: config.dataset, root: config.dataRoot ?? undefined, imageSize: config.imageSize, channels: config.channels,
    seed: config.seed, download: config.download, allowHttp: config.allowHttp, skipBadImages: config.skipBadImages, logger,
  });
  checkDataset(config, ds);

  const gan = buildGan(modelConfigOf(config), config.seed);
  const opt = { optimizer: config.optimizer, lr: config.lr, beta1: config.beta1, beta2: config.beta2 };
  const st: TrainState = { gan, optG: createOptimizer(gan.g, opt), optD: createOptimizer(gan.d, opt), step: 0 };
  let ckpts: CheckpointManager | null = null;
  let metrics: MetricsWriter | null = null;
  let tb: TensorBoardWriter | null = null;
  let stream: ReturnType<typeof createBatchStream> | null = null;
  let reducer: Reducer = opts.reducer ?? new LocalReducer();
  try {
    if (resumeCkpt) {
      restoreState(st, resumeCkpt, `checkpoint ${resumeCkpt.path ?? config.resume}`);
      logger.info({ step: st.step, from: resumeCkpt.path ?? config.resume }, 'resumed');
    }
    // A fresh worker's commit is its initial state; a joiner's is ranked last (the coordinator orders by step).
    await syncHost(st);
    let commit: Snapshot | null = membership ? takeSnapshot(st) : null;
    let reason: string | null = null;
    let stoppedEarly = false;
    let lastCheckpoint = resumeCkpt ? st.step : -1;
    const B = config.batchSize;
    const sampleShape = ds.sampleShape;
    const K = config.nCritic;
    // --unrolled U: U more D updates per step, on batches of their own, that G's gradient is taken through and that
    // are then undone (./unrolled-d). They read the stream and draw z (and ε) like the real ones, after them.
    const U = config.unrolled;
    const stepOpts: StepOptions = {
      realLabel: 1 - config.labelSmoothing, loss: config.loss, clip: config.loss === 'wgan' ? config.clip : null,
      featureMatching: config.featureMatching, gpWeight: config.gpWeight,
    };
    const control = new Float32Array(1 + getFlatBuffers(gan.g).length + getFlatBuffers(gan.d).length);

    generations: for (;;) {
      if (membership) {
        try {
          reducer = await membership.next(commit ? commit.step : -1, reason);
        } catch (e) {
          // The run cannot go on (too few workers, coordinator gone): keep the newest commit on disk before leaving.
          if (commit && commit.step > 0 && commit.step !== lastCheckpoint) {
            restoreSnapshot(st, commit);
            await syncHost(st);
            const mgr = ckpts ?? new CheckpointManager(path.join(out, 'checkpoints'), { keep: config.keepCheckpoints, logger });
            const { tensors, metadata } = serializeState(st, config);
            await mgr.save(st.step, tensors, metadata);
            logger.warn({ step: st.step, dir: path.join(out, 'checkpoints') }, 'saved the last commit before stopping');
          }
          throw e;
        }
        if (commit) restoreSnapshot(st, commit);
      }
      const chief = reducer.rank === 0;
      try {
        await syncHost(st);
        await broadcastState(st, reducer);
        await syncHost(st);
        if (membership) commit = takeSnapshot(st);
        if (chief && !ckpts) {
          ckpts = new CheckpointManager(path.join(out, 'checkpoints'), { keep: config.keepCheckpoints, logger });
          metrics = new MetricsWriter(path.join(out, 'metrics.jsonl'));
          // `tensorboard --logdir runs/` shows every run; a resumed run (or a new rank 0) adds its own events file.
          tb = new TensorBoardWriter(path.join(out, 'tb'));
          writeRunConfig(out, config, {
            version: productVersion(), node: process.version, tfjs: tf.version_core, backend: tf.getBackend(), worldSize: reducer.worldSize,
          });
          await writeRealSamples(config, ds, path.join(out, 'real_samples.png'));
        }
        // With n_critic K every step reads K batches, one per D update, and U more for the unrolled updates: the stream
        // counts D updates (step·(K + U) + k), so K = 1, U = 0 is the plain step order and a resumed or re-formed run
        // picks up where the last step left off.
        stream = createBatchStream({
          dataset: ds, batchSize: B, rank: reducer.rank, worldSize: reducer.worldSize, seed: config.seed,
          dropLast: config.dropLast, startStep: st.step * (K + U),
        });
        const batches = stream;
        /** D update `it`'s inputs: the stream's next batch, and z and wgan-gp's ε per global row. */
        const nextUpdate = async (it: number): Promise<UnrollBatch & { waitMs: number }> => {
          const tw = performance.now();
          const batch = await batches.next();
          const waitMs = performance.now() - tw;
          if (batch.step !== it) throw new Error(`internal: batch stream at D update ${batch.step}, trainer at ${it}`);
          // The rows whose real samples this rank's batch holds.
          const rows = globalRows(reducer.rank, reducer.worldSize, B);
          return {
            real: tf.tensor(batch.data, [B, ...sampleShape]),
            z: tf.tensor2d(rowsNoise(config.seed, it, rows, config.nz), [B, config.nz]),
            gpEpsilon: config.loss === 'wgan-gp' ? tf.tensor1d(gpEpsilon(config.seed, it, rows)) : undefined,
            waitMs,
          };
        };
        const disposeUpdate = (u: UnrollBatch): void => {
          u.real.dispose();
          u.z.dispose();
          u.gpEpsilon?.dispose();
        };

        while (st.step < config.steps) {
          const t0 = performance.now();
          let waitMs = 0;
          let arMs = 0;
          let compMs = 0;
          let d!: StepOutcome['d'];
          let g!: StepOutcome['g'];
          for (let k = 0; k < K; k++) {
            const it = st.step * (K + U) + k;
            const cur = await nextUpdate(it);
            waitMs += cur.waitMs;
            const { real, z, gpEpsilon: eps } = cur;
            const dOpts: StepOptions = eps ? { ...stepOpts, gpEpsilon: eps } : stepOpts;
            const unrolled: UnrollBatch[] = [];
            try {
              // The last D update of the step is trainStep's own, followed by G's (which reuses that update's z).
              if (k < K - 1) {
                const r = await criticStep(st, real, z, reducer, dOpts);
                compMs += r.computeMs;
                arMs += r.allreduceMs;
              } else {
                for (let u = 0; u < U; u++) {
                  const next = await nextUpdate(it + 1 + u);
                  waitMs += next.waitMs;
                  unrolled.push(next);
                }
                const r = await trainStep(st, real, z, reducer, dOpts, unrolled);
                ({ d, g } = r);
                compMs += r.computeMs;
                arMs += r.allreduceMs;
              }
            } catch (e) {
              const msg = (e as Error).message;
              if (!(e instanceof PeerFailure) && /NaN|Inf|finite/i.test(msg)) {
                throw new Error(`step ${st.step + 1}: ${msg} (weights left at step ${st.step}; lower --lr or check the data)`);
              }
              throw e;
            } finally {
              disposeUpdate(cur);
              unrolled.forEach(disposeUpdate);
            }
          }

          await syncHost(st);
          // Buffers and the stop/reform decision travel together: one small broadcast per step keeps ranks in lockstep.
          const decision = chief && opts.stopRequested?.() ? CONTROL.stop : chief && membership?.reformRequested() ? CONTROL.reform : CONTROL.go;
          if (reducer.worldSize > 1) {
            control[0] = decision;
            const gb = getFlatBuffers(gan.g);
            control.set(gb, 1);
            control.set(getFlatBuffers(gan.d), 1 + gb.length);
            const ta = performance.now();
            await reducer.broadcast(control, 0);
            arMs += performance.now() - ta;
            setFlatBuffers(gan.g, control.subarray(1, 1 + gb.length));
            setFlatBuffers(gan.d, control.subarray(1 + gb.length));
          } else {
            control[0] = decision;
          }
          st.step += 1;

          if (reducer.worldSize > 1 && config.hashEvery > 0 && (st.step % config.hashEvery === 0 || st.step === config.steps)) {
            const all = await reducer.allGather(weightsDigest(st));
            const bad = all.map((h, r) => (h.every((v, i) => v === all[0][i]) ? -1 : r)).filter((r) => r >= 0);
            if (bad.length) throw new ReplicaMismatchError(`replicas diverged at step ${st.step}: weights of rank(s) ${bad.join(', ')} differ from rank 0's`);
          }
          if (membership) commit = takeSnapshot(st);

          const t2 = performance.now();
          const rec: StepRecord = {
            step: st.step, d_loss: d.dLoss, g_loss: g.gLoss, d_real: d.dReal, d_fake: d.dFake,
            step_ms: t2 - t0, compute_ms: compMs, allreduce_ms: arMs, data_wait_ms: waitMs,
            other_ms: t2 - t0 - waitMs - compMs - arMs,
          };
          if (!Number.isFinite(rec.d_loss) || !Number.isFinite(rec.g_loss)) {
            throw new Error(`step ${st.step}: loss is not finite (d_loss ${rec.d_loss}, g_loss ${rec.g_loss}); lower --lr or check the data`);
          }
          await opts.onStep?.(rec);
          const last = st.step === config.steps || control[0] === CONTROL.stop;
          if (chief) {
            if (st.step % config.logEvery === 0 || st.step === 1 || last) {
              // The whole run's throughput: every rank reads K + U batches of B real samples a step.
              const row = { ...rec, world_size: reducer.worldSize, samples_per_s: (reducer.worldSize * (K + U) * B * 1000) / rec.step_ms };
              metrics!.write(row);
              tb!.scalars(tensorboardScalars(row), st.step);
              if (!opts.progress) logger.info(rec, 'step');
            }
            opts.progress?.update(st.step, {
              d_loss: rec.d_loss.toFixed(3), g_loss: rec.g_loss.toFixed(3),
              ...(reducer.worldSize > 1 ? { allreduce: `${Math.round((100 * arMs) / rec.step_ms)}%` } : {}),
            });
            if (config.sampleEvery > 0 && (st.step % config.sampleEvery === 0 || last)) {
              const file = path.join(out, `fake_samples_step_${pad6(st.step)}.png`);
              await writeSamples(st, config, ds, file);
              // The PNG just written (a grid, or the MLP's scatter plot) is the image: its size comes from its header.
              const png = fs.readFileSync(file);
              const { width, height, channels } = readPngHeader(png, file);
              tb!.image('samples/fake', png, height, width, channels, st.step);
            }
            if ((config.checkpointEvery > 0 && st.step % config.checkpointEvery === 0) || last) {
              const { tensors, metadata } = serializeState(st, config);
              await ckpts!.save(st.step, tensors, metadata);
              lastCheckpoint = st.step;
            }
          }
          if (control[0] === CONTROL.stop) {
            stoppedEarly = st.step < config.steps;
            logger.info({ step: st.step }, 'stop requested: ended after this step');
            break generations;
          }
          if (control[0] === CONTROL.reform) {
            reason = 'admitting a new worker';
            stream.close();
            continue generations;
          }
        }
        break;
      } catch (e) {
        if (!(membership && e instanceof PeerFailure)) throw e;
        reason = e.message;
        logger.warn({ step: st.step, committed: commit?.step, err: e.message }, 'collective failed: discarding the step in flight and re-forming the group');
        stream?.close();
      }
    }
    if (reducer.rank === 0 && ckpts && lastCheckpoint !== st.step) {
      await syncHost(st);
      const { tensors, metadata } = serializeState(st, config);
      await ckpts.save(st.step, tensors, metadata);
    }
    opts.progress?.done();
    return { step: st.step, stoppedEarly, out, digest: weightsSha256(st).toString('hex') };
  } finally {
    stream?.close();
    await metrics?.close();
    await tb?.close();
    disposeGan(gan);
  }
}
