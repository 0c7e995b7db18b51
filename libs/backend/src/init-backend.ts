// Chooses and starts the TF.js compute backend for this process, on the one shared @tensorflow/tfjs-core instance.
//
// 'auto' tries, in order: tensorflow (tfjs-node-gpu, then tfjs-node: native libtensorflow, optional dependencies
// that need internet to install), webgpu (Dawn through the npm `webgpu` package, only when an adapter appears; with
// our WGSL kernels: training BatchNorm, bias + activation, the BCE loss, channel sums, a tiled conv filter gradient),
// wasm (XNNPACK + SIMD, with our conv-gradient kernels and float64-accumulating Sum/Mean), cpu (plain JS; far too slow for conv training, so it is
// only the last resort). An explicitly named backend that fails to load is an error, never a silent fallback.
//
// Threads on wasm: tfjs 4.22 hard-codes WASM_HAS_MULTITHREAD_SUPPORT=false under Node (tfjs issue #3830), so the
// single-threaded SIMD binary runs unless opts.threads > 1, which starts the threaded-SIMD build through the
// workarounds in wasm-threads.ts. The same count sizes the host threads (./host-threads) on every backend. The CLI
// passes --threads (default: the cores the process may use, see compute-threads.ts); library callers that pass
// nothing get 1.
//
// Tests: node tools/run-tests.mjs libs/backend
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ensureGradients, registerOwnGradients } from './gradients';
import { registerWasmConvKernels } from './wasm-conv-kernels';
import { registerWasmLeakyReluKernel } from './wasm-leaky-relu-kernel';
import { registerWasmTileKernel } from './wasm-tile-kernel';
import { registerWasmIdentityKernel } from './wasm-identity-kernel';
import { registerWasmMatMulKernel, setWasmMatMulThreads } from './wasm-matmul-kernel';
import { registerWasmReduceKernels } from './wasm-reduce-kernels';
import { registerWasmTransposeKernel } from './wasm-transpose-kernel';
import { registerWebgpuBatchNormKernels } from './webgpu-batch-norm-kernels';
import { registerWebgpuLossKernels } from './webgpu-loss-kernels';
import { registerWebgpuBiasActivationKernels } from './webgpu-bias-activation-kernels';
import { registerWebgpuConvFilterGradient } from './webgpu-conv-filter-gradient';
import { withWasmThreads } from './wasm-threads';
import { setHostThreads } from './host-threads';
import { wasmPackage } from './wasm-package';

export const BACKEND_NAMES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_NAMES)[number];
export type ConcreteBackend = Exclude<BackendRequest, 'auto'>;

export interface BackendLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface BackendChoice {
  /** tfjs backend name now active (tf.getBackend()). */
  name: string;
  /** Why this one runs (one line). */
  reason: string;
  /** Backends tried before it that did not load, with the cause. */
  tried: { name: string; error: string }[];
}

/**
 * A loader imports and prepares one backend so that tf.setBackend(name) can succeed, or throws with the cause.
 * It returns the tfjs backend name to activate (tfjs-node registers 'tensorflow').
 */
export type BackendLoader = () => Promise<string>;

export interface InitBackendOptions {
  /** Replaces some or all of the default loaders (tests use this to simulate missing packages or GPUs). */
  loaders?: Partial<Record<ConcreteBackend, BackendLoader>>;
  /** Register tfjs-core's gradients too (default true: every user of this lib trains). */
  gradients?: boolean;
  /**
   * Compute threads (default 1): the host threads of the optimisers' updates (./host-threads, every backend) and
   * the wasm backend's XNNPACK pool. Above 1 wasm's threaded-SIMD build is started through the Node workarounds in
   * wasm-threads.ts; that takes effect only on the first wasm initialisation in a process (backendInfo().threads
   * says what runs).
   */
  threads?: number;
}

const AUTO_ORDER: ConcreteBackend[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** The slice of the WebGPU API used here (the DOM lib in this TS setup has no WebGPU types). */
interface GPU {
  requestAdapter(opts?: { powerPreference?: string }): Promise<object | null>;
}

let wasmInitialised = false;
let simdSupported: boolean | undefined;
let threadsCount: number | undefined;

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return msg.split('\n')[0].trim() || 'unknown error';
}

async function loadTensorflow(): Promise<string> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (!tf.findBackendFactory('tensorflow')) throw new Error(`${pkg} loaded but registered no 'tensorflow' backend`);
      return 'tensorflow';
    } catch (e) {
      errors.push(`${pkg}: ${firstLine(e)}`);
    }
  }
  throw new Error(errors.join('; '));
}

/** What an adapter is asked here (WebGPU's GPUAdapter, in part). */
interface Adapter {
  limits: { maxStorageBuffersPerShaderStage: number };
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<unknown>;
}

/**
 * Makes the devices of `gpu`'s adapters get as many storage buffers per shader stage as the adapter offers (`gpu`
 * itself is changed: tfjs-backend-webgpu takes it from navigator.gpu). tfjs asks for WebGPU's default, 8, and its
 * Concat then joins 7 inputs per dispatch: packing a DCGAN net's flat gradient took 4 dispatches (lavapipe offers 16).
 */
function askFullStorageLimit(gpu: GPU): GPU {
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  Object.defineProperty(gpu, 'requestAdapter', {
    configurable: true,
    value: async (options?: object) => {
      const adapter = (await requestAdapter(options)) as Adapter | null;
      if (!adapter) return adapter;
      const requestDevice = adapter.requestDevice.bind(adapter);
      const maxStorageBuffersPerShaderStage = adapter.limits.maxStorageBuffersPerShaderStage;
      Object.defineProperty(adapter, 'requestDevice', {
        configurable: true,
        value: (d?: { requiredLimits?: Record<string, number> }) => requestDevice({ ...d, requiredLimits: { ...d?.requiredLimits, maxStorageBuffersPerShaderStage } }),
      });
      return adapter;
    },
  });
  return gpu;
}

async function loadWebgpu(): Promise<string> {
  let webgpu: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    webgpu = (await import('webgpu')) as unknown as typeof webgpu;
  } catch (e) {
    throw new Error(`npm package 'webgpu' not loadable: ${firstLine(e)}`);
  }
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
  const gpu = g.navigator?.gpu ?? webgpu.create([]);
  // Ask first, the same way tfjs-backend-webgpu will: without an adapter its factory would throw a TypeError.
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter (no GPU, or no usable Vulkan driver)');
  Object.assign(globalThis, webgpu.globals);
  if (!g.navigator?.gpu) {
    // Node 20 has no navigator; later Node versions define a getter-only one, hence defineProperty.
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: askFullStorageLimit(gpu) }, configurable: true, writable: true });
  }
  // tfjs-backend-webgpu registers its factory at import time only if navigator.gpu exists, so import it now.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) throw new Error('@tensorflow/tfjs-backend-webgpu registered no backend (was it imported before navigator.gpu existed?)');
  registerWebgpuBatchNormKernels();
  registerWebgpuLossKernels();
  registerWebgpuBiasActivationKernels();
  registerWebgpuConvFilterGradient();
  return 'webgpu';
}

async function loadWasm(): Promise<string> {
  const wasm = await wasmPackage();
  // Point Emscripten at the package's own .wasm files as a file path (Node reads them with fs); this keeps working
  // when our code is bundled elsewhere and __dirname-relative lookup would not.
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  try {
    wasm.setWasmPaths(dist + path.sep);
  } catch {
    // A failed earlier init makes setWasmPaths refuse; the earlier paths stay in force and setBackend reports.
  }
  registerWasmConvKernels();
  registerWasmReduceKernels();
  registerWasmMatMulKernel();
  registerWasmIdentityKernel();
  registerWasmTransposeKernel();
  registerWasmLeakyReluKernel();
  registerWasmTileKernel();
  return 'wasm';
}

async function loadCpu(): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  return 'cpu';
}

export const defaultLoaders: Record<ConcreteBackend, BackendLoader> = {
  tensorflow: loadTensorflow,
  webgpu: loadWebgpu,
  wasm: loadWasm,
  cpu: loadCpu,
};

async function activate(loader: BackendLoader, threads: number): Promise<string> {
  const name = await loader();
  // setBackend catches factory errors and returns false (after a console warning), so check its answer.
  const firstWasm = name === 'wasm' && !wasmInitialised;
  const ok = firstWasm && threads > 1 ? await withWasmThreads(threads, () => tf.setBackend(name)) : await tf.setBackend(name);
  if (name === 'wasm' && ok) wasmInitialised = true;
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  if (name === 'wasm') {
    simdSupported = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const wasm = await wasmPackage();
    threadsCount = wasm.getThreadsCount();
    setWasmMatMulThreads(threadsCount);
  }
  return name;
}

/** True when this machine exposes a GPU to user space (NVIDIA's device nodes or a DRM render node). */
export function gpuDeviceNode(): boolean {
  try {
    if (fs.readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f))) return true;
    return fs.existsSync('/dev/dri') && fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

/**
 * Loads and activates a tfjs backend. 'auto' takes the first of tensorflow → webgpu → wasm → cpu that loads.
 * Logs one line saying which backend runs and how, e.g. `backend wasm (SIMD, 2 threads); auto, after tensorflow,
 * webgpu did not load` (the causes are in the line's `tried` and `reason` fields).
 * @throws Error naming the backend and the cause when an explicitly requested backend fails, or listing the valid
 *   names for an unknown one
 */
export async function initBackend(requested: BackendRequest, log?: BackendLog, opts: InitBackendOptions = {}): Promise<BackendChoice> {
  if (!(BACKEND_NAMES as readonly string[]).includes(requested)) {
    throw new Error(`unknown backend '${String(requested)}': valid names are ${BACKEND_NAMES.join(', ')}`);
  }
  const loaders = { ...defaultLoaders, ...opts.loaders };
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
  setHostThreads(threads);
  if (opts.gradients !== false) await ensureGradients();
  const tried: { name: string; error: string }[] = [];
  let choice: BackendChoice | undefined;
  if (requested === 'auto') {
    for (const candidate of AUTO_ORDER) {
      // Probing Dawn without a GPU prints Vulkan driver noise to stderr from native code: auto skips it unless a
      // GPU device node exists (an injected test loader, or GAN_WEBGPU_PROBE=1, still probes).
      if (candidate === 'webgpu' && !opts.loaders?.webgpu && process.env.GAN_WEBGPU_PROBE !== '1' && !gpuDeviceNode()) {
        tried.push({ name: candidate, error: 'no GPU device node (/dev/nvidia*, /dev/dri/renderD*); GAN_WEBGPU_PROBE=1 probes anyway' });
        continue;
      }
      try {
        const name = await activate(loaders[candidate], threads);
        const why = tried.length ? ` (${tried.map((t) => `${t.name}: ${t.error}`).join('; ')})` : '';
        choice = { name, reason: `auto: first backend that loaded in order ${AUTO_ORDER.join(' > ')}${why}`, tried };
        break;
      } catch (e) {
        tried.push({ name: candidate, error: firstLine(e) });
      }
    }
    if (!choice) throw new Error(`no tfjs backend could be loaded: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
  } else {
    try {
      const name = await activate(loaders[requested], threads);
      choice = { name, reason: `requested explicitly`, tried };
    } catch (e) {
      throw new Error(`backend '${requested}' failed to load: ${firstLine(e)}`);
    }
  }
  if (opts.gradients !== false) registerOwnGradients();
  // The message stays short enough to read at a glance; why each earlier backend failed is in `tried` / `reason`.
  const info = backendInfo();
  const why = requested !== 'auto' ? 'requested explicitly' : choice.tried.length ? `auto, after ${choice.tried.map((t) => t.name).join(', ')} did not load` : 'auto';
  log?.info({ backend: choice.name, requested, tried: choice.tried, ...info, reason: choice.reason }, `backend ${describeBackend(info)}; ${why}`);
  return choice;
}

export interface BackendInfo {
  name: string;
  /** XNNPACK threads (wasm only). */
  threads?: number;
  /** Whether the SIMD wasm binary runs (wasm only). */
  simd?: boolean;
}

/** Describes the active backend. */
export function backendInfo(): BackendInfo {
  const name = tf.getBackend();
  if (name === 'wasm') return { name, threads: threadsCount, simd: simdSupported };
  return { name };
}

/** The backend in words, e.g. `wasm (SIMD, 2 threads)` or `cpu`. */
export function describeBackend(info: BackendInfo = backendInfo()): string {
  if (info.name !== 'wasm') return info.name;
  const n = info.threads ?? 1;
  return `wasm (${info.simd ? 'SIMD' : 'no SIMD'}, ${n} thread${n === 1 ? '' : 's'})`;
}
