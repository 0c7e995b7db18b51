// Convolution gradient kernels for the tfjs wasm backend, built from kernels that run on XNNPACK.
//
// Why: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter (so D cannot train on wasm at all), and its own
// Conv2DBackpropInput (used by conv2dTranspose in G and by every input gradient) is a hand-written single-threaded
// loop that took 69-83% of a DCGAN step (shared/PERF-NOTES.md). Both gradients are convolutions themselves, so
// here they are re-expressed as the wasm Conv2D kernel (XNNPACK) plus layout work (the Transpose and Slice kernels,
// and filter and phase rearrangements written directly between wasm buffers):
//   - filter gradient: dW[a,b,ci,co] = Σ_{n,i,j} x[n, i·s+a-pt, j·s+b-pl, ci] · dy[n,i,j,co]
//     = Conv2D(input = xᵀ [Ci,H,W,N], filter = dyᵀ [Ho,Wo,N,Co], stride 1, dilation s, explicit pads) → [Ci,kh,kw,Co]
//   - input gradient, stride 1: dx = Conv2D(dy, filter flipped in h,w and with in/out channels swapped [kh,kw,Co,Ci],
//     stride 1, pads kh-1-pt / kw-1-pl on the top/left, the rest from the output size).
//   - input gradient, stride s > 1, by output phase (the "sub-pixel" split): the rows t = s·q + r of dx only ever
//     meet the filter taps k ≡ r + pt (mod s), so each of the sh·sw phases (r, v) is one stride-1 Conv2D of dy itself
//     with a ⌈k/s⌉-tap sub-filter, and the phases are interleaved into dx. Convolving a zero-inserted dy instead (the
//     textbook form) spends (s²-1)/s² of its multiply-adds on zeros: 3/4 of them at stride 2, where this kernel was
//     47-67 % of a DCGAN step (bench:step's profile). Derivation, per spatial dim with q the phase's output index:
//       dx[s·q + r] = Σ_j dy[q + base - j] · w[s·j + c],  c = (r + pt) mod s, base = ⌊(r + pt)/s⌋, j < J = ⌈(k - c)/s⌉
//     = a correlation of dy with the taps w[c], w[c+s], … reversed, read from row q + base - (J-1).
// Only NHWC float32 with dilation 1 is supported (the gradients tfjs-core asks for); anything else throws.
// Every intermediate is released with backend.disposeData, except the input gradient's sub-filters, which are kept
// while their filter lives (cachedSubFilter); tests check numDataIds stays flat and falls back when a filter goes.
// Run the tests: node tools/run-tests.mjs libs/backend
import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  Slice,
  Transpose,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { registerWasmConv2DKernel, wasmConv2DKernelRegistered, xnnConv2D } from './wasm-conv2d-kernel';
import { inputGradientByGemm, preferGemmInputGradient } from './wasm-conv-input-gemm';
import { callWasmKernel, freeAll, type WasmBackendLike } from './wasm-kernel-call';
import { isOurWasmKernel, overrideWasmKernel } from './kernel-override';

type Pads4 = { top: number; bottom: number; left: number; right: number };

/** Transpose, releasing the input when `own` (it was an intermediate of ours). */
function transpose(b: WasmBackendLike, x: TensorInfo, perm: number[], own: boolean): TensorInfo {
  const out = callWasmKernel(b, Transpose, { x }, { perm });
  if (own) freeAll(b, x);
  return out;
}

/**
 * Turns possibly negative pads on an NHWC tensor into non-negative ones: a negative pad means those rows/columns
 * of the input are never read by the convolution, so they are sliced off instead.
 * @param x [N,H,W,C]
 */
function cropNegativePads(b: WasmBackendLike, x: TensorInfo, p: Pads4, own: boolean): { x: TensorInfo; own: boolean; pads: Pads4 } {
  if (p.top >= 0 && p.bottom >= 0 && p.left >= 0 && p.right >= 0) return { x, own, pads: p };
  const [n, h, w, c] = x.shape;
  const ct = Math.max(0, -p.top), cb = Math.max(0, -p.bottom), cl = Math.max(0, -p.left), cr = Math.max(0, -p.right);
  if (h - ct - cb <= 0 || w - cl - cr <= 0) throw new Error(`conv gradient: padding ${JSON.stringify(p)} leaves nothing of a ${h}x${w} input`);
  const out = callWasmKernel(b, Slice, { x }, { begin: [0, ct, cl, 0], size: [n, h - ct - cb, w - cl - cr, c] });
  if (own) freeAll(b, x);
  return { x: out, own: true, pads: { top: Math.max(0, p.top), bottom: Math.max(0, p.bottom), left: Math.max(0, p.left), right: Math.max(0, p.right) } };
}

/** Stride-1 XNNPACK Conv2D with explicit pads and a dilation. x [N,H,W,Ci], filter [kh,kw,Ci,Co]. */
function conv(b: WasmBackendLike, x: TensorInfo, filter: TensorInfo, p: Pads4, dilation: [number, number]): TensorInfo {
  return xnnConv2D(b, { x, filter }, {
    strides: [1, 1],
    pad: [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]],
    dataFormat: 'NHWC',
    dilations: dilation,
  } as unknown as NamedAttrMap);
}

function checkSupported(kernel: string, dataFormat: string, dtypes: string[]): void {
  if (dataFormat !== 'NHWC') {
    throw new Error(`@gan/backend wasm ${kernel}: dataFormat '${dataFormat}' is not supported, only 'NHWC'`);
  }
  for (const d of dtypes) if (d !== 'float32') throw new Error(`@gan/backend wasm ${kernel}: dtype '${d}' is not supported, only float32`);
}

/** One spatial dimension of an output phase: which taps it meets and where it reads dy (see the file header). */
interface PhaseDim {
  /** rows (or columns) of dx in this phase: t = s·q + r for q < count */
  count: number;
  /** taps the phase meets: k = s·j + c, j < taps */
  taps: number;
  /** first tap index in the filter flipped along this dim: the sub-filter is flipped[start], flipped[start+s], … */
  start: number;
  /** pads of dy for the stride-1 correlation (negative: rows never read, cropped) */
  before: number;
  after: number;
}

function phaseDim(r: number, s: number, k: number, pad: number, inSize: number, outSize: number): PhaseDim {
  const count = Math.max(0, Math.ceil((inSize - r) / s));
  const c = (r + pad) % s;
  const base = Math.floor((r + pad) / s);
  const taps = Math.max(0, Math.ceil((k - c) / s));
  // flipped[k-1-m] = w[m]: the taps w[s·(taps-1-t)+c], t = 0.., are flipped[k-1-c-s·(taps-1) + s·t].
  return { count, taps, start: k - 1 - c - s * (taps - 1), before: taps - 1 - base, after: count + base - outSize };
}

/** Taps of one spatial dim of a sub-filter: flipped-filter indices start, start + step, … (`taps` of them). */
interface TapRange {
  start: number;
  step: number;
  taps: number;
}

/**
 * The correlation filter of an input gradient: taps of the filter flipped in space, with in/out channels swapped.
 * out[th,tw,co,ci] = w[kh-1-(rows.start + rows.step·th), kw-1-(cols.start + cols.step·tw), ci, co].
 * Written straight between wasm buffers in one pass: as tfjs kernels (Reverse, Transpose, StridedSlice) this took
 * ~380 ms for the document's largest filter (4×4×256×512), against ~15 ms for the convolution it feeds.
 * @param filter [kh,kw,Ci,Co]
 * @returns [rows.taps, cols.taps, Co, Ci]
 */
function subFilter(b: WasmBackendLike, filter: TensorInfo, rows: TapRange, cols: TapRange): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = b.makeOutput([rows.taps, cols.taps, co, ci], 'float32');
  // Views only after the allocation: wasm memory may grow (and detach earlier views) when it allocates.
  const src = b.typedArrayFromHeap(filter) as Float32Array;
  const dst = b.typedArrayFromHeap(out) as Float32Array;
  const T = 16; // transpose in T×T tiles: both sides stay in cache
  let block = 0;
  for (let th = 0; th < rows.taps; th++) {
    const a = kh - 1 - (rows.start + rows.step * th);
    for (let tw = 0; tw < cols.taps; tw++, block += ci * co) {
      const base = (a * kw + (kw - 1 - (cols.start + cols.step * tw))) * ci * co;
      for (let y0 = 0; y0 < co; y0 += T) {
        const y1 = Math.min(co, y0 + T);
        for (let x0 = 0; x0 < ci; x0 += T) {
          const x1 = Math.min(ci, x0 + T);
          for (let y = y0; y < y1; y++) {
            const d = block + y * ci;
            for (let x = x0; x < x1; x++) dst[d + x] = src[base + x * co + y];
          }
        }
      }
    }
  }
  return out;
}

/**
 * Sub-filters already written, per backend and per filter buffer: G's weights feed conv2dTranspose twice a step
 * (D's fakes, then G's own step) and D's weights three input gradients, and a weight changes only when Adam
 * assigns it a new buffer. Tensor data is never written after its kernel returns, so a filter's dataId stands for
 * its values; entries whose filter has been disposed are released at the next input-gradient call. Reusing the
 * sub-filter's buffer also lets wasm's Conv2D keep the XNNPACK operator it packed for it.
 */
const subFilterCache = new WeakMap<WasmBackendLike, Map<object, Map<string, TensorInfo>>>();

function cachedSubFilter(b: WasmBackendLike, filter: TensorInfo, rows: TapRange, cols: TapRange): TensorInfo {
  let perFilter = subFilterCache.get(b);
  if (!perFilter) subFilterCache.set(b, (perFilter = new Map()));
  for (const [dataId, subs] of perFilter) {
    if (b.dataIdMap.has(dataId)) continue;
    for (const t of subs.values()) freeAll(b, t);
    perFilter.delete(dataId);
  }
  let subs = perFilter.get(filter.dataId);
  if (!subs) perFilter.set(filter.dataId, (subs = new Map()));
  const key = `${rows.start},${rows.step},${rows.taps};${cols.start},${cols.step},${cols.taps}`;
  let sub = subs.get(key);
  if (!sub) subs.set(key, (sub = subFilter(b, filter, rows, cols)));
  return sub;
}

/**
 * dx for a forward Conv2D(x [N,H,W,Ci], filter [kh,kw,Ci,Co]) given dy [N,Ho,Wo,Co]; also the forward pass of
 * conv2dTranspose. Returns [N,H,W,Ci] = attrs.inputShape.
 */
export const conv2DBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WasmBackendLike;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as { strides: number | [number, number]; pad: any; dataFormat: string; dimRoundingMode?: any; inputShape: [number, number, number, number] };
  checkSupported(Conv2DBackpropInput, a.dataFormat ?? 'NHWC', [dy.dtype, filter.dtype]);
  const info = backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo } = info;
  if (dy.shape[1] !== ho || dy.shape[2] !== wo || dy.shape[0] !== info.batchSize || dy.shape[3] !== info.outChannels) {
    throw new Error(`@gan/backend wasm Conv2DBackpropInput: dy shape [${dy.shape}] does not match [${info.outShape}] implied by inputShape [${a.inputShape}], filter [${filter.shape}], strides and pad`);
  }
  if (preferGemmInputGradient(info)) return inputGradientByGemm(b, dy, filter, info);
  if (sh === 1 && sw === 1) {
    // Filter [kh,kw,Ci,Co] → flipped in space, channels swapped → [kh,kw,Co,Ci].
    const wT = cachedSubFilter(b, filter, { start: 0, step: 1, taps: kh }, { start: 0, step: 1, taps: kw });
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    // Output rows: (Ho + top + bottom) - kh + 1 = H.
    const pads = { top, left, bottom: h + kh - 1 - ho - top, right: w + kw - 1 - wo - left };
    const c = cropNegativePads(b, dy, pads, false);
    const out = conv(b, c.x, wT, c.pads, [1, 1]);
    if (c.own) freeAll(b, c.x);
    return out;
  }
  const [n, , , ci] = a.inputShape;
  const phases: { rows: PhaseDim; cols: PhaseDim; r: number; v: number; out?: TensorInfo }[] = [];
  for (let r = 0; r < sh; r++) {
    for (let v = 0; v < sw; v++) {
      const rows = phaseDim(r, sh, kh, info.padInfo.top, h, ho);
      const cols = phaseDim(v, sw, kw, info.padInfo.left, w, wo);
      if (rows.count === 0 || cols.count === 0) continue;
      const p: (typeof phases)[number] = { rows, cols, r, v };
      if (rows.taps > 0 && cols.taps > 0) {
        const sub = cachedSubFilter(b, filter, { start: rows.start, step: sh, taps: rows.taps }, { start: cols.start, step: sw, taps: cols.taps });
        const c = cropNegativePads(b, dy, { top: rows.before, bottom: rows.after, left: cols.before, right: cols.after }, false);
        p.out = conv(b, c.x, sub, c.pads, [1, 1]); // [N, rows.count, cols.count, Ci]
        if (c.own) freeAll(b, c.x);
      }
      phases.push(p);
    }
  }
  const out = b.makeOutput([n, h, w, ci], 'float32');
  // Views only now: every allocation is done, so wasm memory cannot grow (and detach them) while they are in use.
  const dst = b.typedArrayFromHeap(out) as Float32Array;
  const covered = phases.length === sh * sw && phases.every((p) => p.out);
  if (!covered) dst.fill(0); // a phase that meets no tap (or is missing) is all zeros
  for (const p of phases) {
    if (!p.out) continue;
    const src = b.typedArrayFromHeap(p.out) as Float32Array;
    const qh = p.rows.count;
    const qw = p.cols.count;
    for (let img = 0; img < n; img++) {
      for (let q = 0; q < qh; q++) {
        const srcRow = (img * qh + q) * qw * ci;
        const dstRow = (img * h + sh * q + p.r) * w * ci;
        for (let u = 0; u < qw; u++) {
          const so = srcRow + u * ci;
          const d0 = dstRow + (sw * u + p.v) * ci;
          if (ci >= 16) dst.set(src.subarray(so, so + ci), d0);
          else for (let k = 0; k < ci; k++) dst[d0 + k] = src[so + k];
        }
      }
    }
    freeAll(b, p.out);
  }
  return out;
};

/**
 * dW for a forward Conv2D(x [N,H,W,Ci], filter [kh,kw,Ci,Co]) given dy [N,Ho,Wo,Co]. Returns attrs.filterShape.
 */
export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as WasmBackendLike;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as { strides: number | [number, number]; pad: any; dataFormat: string; dimRoundingMode?: any; filterShape: [number, number, number, number] };
  checkSupported(Conv2DBackpropFilter, a.dataFormat ?? 'NHWC', [x.dtype, dy.dtype]);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo } = info;
  if (dy.shape[1] !== ho || dy.shape[2] !== wo || dy.shape[0] !== info.batchSize || dy.shape[3] !== info.outChannels) {
    throw new Error(`@gan/backend wasm Conv2DBackpropFilter: dy shape [${dy.shape}] does not match [${info.outShape}] implied by x [${x.shape}], filterShape [${a.filterShape}], strides and pad`);
  }
  // Batch becomes channels: xᵀ [Ci,H,W,N], dyᵀ [Ho,Wo,N,Co].
  const xT = transpose(b, x, [3, 1, 2, 0], false);
  const dyT = transpose(b, dy, [1, 2, 0, 3], false);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Output rows: (H + top + bottom) - ((Ho-1)·sh + 1) + 1 = kh.
  const pads = { top, left, bottom: kh + (ho - 1) * sh - h - top, right: kw + (wo - 1) * sw - w - left };
  const c = cropNegativePads(b, xT, pads, true);
  const g = conv(b, c.x, dyT, c.pads, [sh, sw]); // [Ci,kh,kw,Co]
  if (c.own) freeAll(b, c.x);
  freeAll(b, dyT);
  return transpose(b, g, [1, 2, 0, 3], true);
};

/**
 * Registers the conv kernels for the 'wasm' backend on the shared tfjs-core kernel registry: both gradients, and
 * Conv2D with its GEMM route (./wasm-conv2d-kernel), replacing wasm's own Conv2D and Conv2DBackpropInput.
 * Idempotent (see overrideWasmKernel).
 * @returns which kernels were (re)registered by this call
 */
export function registerWasmConvKernels(): { registered: string[] } {
  const registered: string[] = [];
  for (const [name, fn] of [[Conv2DBackpropFilter, conv2DBackpropFilterWasm], [Conv2DBackpropInput, conv2DBackpropInputWasm]] as const) {
    if (overrideWasmKernel(name, fn).installed) registered.push(name);
  }
  if (registerWasmConv2DKernel().registered) registered.push(Conv2D);
  return { registered };
}

/** True when this module's kernels are the ones registered for 'wasm'. */
export function wasmConvKernelsRegistered(): boolean {
  return isOurWasmKernel(Conv2DBackpropFilter) && isOurWasmKernel(Conv2DBackpropInput) && wasmConv2DKernelRegistered();
}
