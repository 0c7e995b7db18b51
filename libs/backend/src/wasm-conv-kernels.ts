// Convolution gradient kernels for the tfjs wasm backend, built from kernels that run on XNNPACK.
//
// Why: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter (so D cannot train on wasm at all), and its own
// Conv2DBackpropInput (used by conv2dTranspose in G and by every input gradient) is a hand-written single-threaded
// loop that took 69-83% of a DCGAN step (shared/PERF-NOTES.md). Both gradients are convolutions themselves, so
// here they are re-expressed as the wasm Conv2D kernel (XNNPACK) plus cheap layout kernels (Transpose, PadV2,
// Reverse, Slice, Reshape):
//   - filter gradient: dW[a,b,ci,co] = Σ_{n,i,j} x[n, i·s+a-pt, j·s+b-pl, ci] · dy[n,i,j,co]
//     = Conv2D(input = xᵀ [Ci,H,W,N], filter = dyᵀ [Ho,Wo,N,Co], stride 1, dilation s, explicit pads) → [Ci,kh,kw,Co]
//   - input gradient: dx = Conv2D(zero-inserted dy [N,Ho·s,Wo·s,Co], filter flipped in h,w and with in/out channels
//     swapped [kh,kw,Co,Ci], stride 1, pads kh-1-pt / kw-1-pl on the top/left, the rest from the output size).
// Only NHWC float32 with dilation 1 is supported (the gradients tfjs-core asks for); anything else throws.
// Every intermediate is released with backend.disposeData; tests check numDataIds stays flat.
// Run the tests: node tools/run-tests.mjs libs/backend
import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  getKernel,
  PadV2,
  Reshape,
  Reverse,
  Slice,
  Transpose,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { isOurWasmKernel, overrideWasmKernel } from './wasm-kernel-override';

/** The parts of tfjs-backend-wasm's BackendWasm these kernels touch. */
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

type Pads4 = { top: number; bottom: number; left: number; right: number };

function call(backend: WasmBackendLike, kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const k = getKernel(kernelName, 'wasm');
  if (!k) throw new Error(`wasm backend has no ${kernelName} kernel, needed by @gan/backend conv gradient kernels`);
  const out = k.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm ${kernelName} returned several outputs, expected one`);
  return out as TensorInfo;
}

function free(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** Transpose, releasing the input when `own` (it was an intermediate of ours). */
function transpose(b: WasmBackendLike, x: TensorInfo, perm: number[], own: boolean): TensorInfo {
  const out = call(b, Transpose, { x }, { perm });
  if (own) free(b, x);
  return out;
}

function reshape(b: WasmBackendLike, x: TensorInfo, shape: number[], own: boolean): TensorInfo {
  const out = call(b, Reshape, { x }, { shape });
  if (own) free(b, x);
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
  const out = call(b, Slice, { x }, { begin: [0, ct, cl, 0], size: [n, h - ct - cb, w - cl - cr, c] });
  if (own) free(b, x);
  return { x: out, own: true, pads: { top: Math.max(0, p.top), bottom: Math.max(0, p.bottom), left: Math.max(0, p.left), right: Math.max(0, p.right) } };
}

/** Stride-1 XNNPACK Conv2D with explicit pads and a dilation. x [N,H,W,Ci], filter [kh,kw,Ci,Co]. */
function conv(b: WasmBackendLike, x: TensorInfo, filter: TensorInfo, p: Pads4, dilation: [number, number]): TensorInfo {
  return call(b, Conv2D, { x, filter }, {
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

/**
 * Zero insertion: places dy[n,i,j,c] at [n, i·sh, j·sw, c] of an [N, Ho·sh, Wo·sw, C] tensor of zeros (the
 * trailing sh-1 rows / sw-1 columns are zeros too; callers subtract them from the bottom/right pads).
 * Done as two rank-4 pads so it stays within what the wasm PadV2 and Reshape kernels handle.
 */
function insertZeros(b: WasmBackendLike, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, ho, wo, c] = dy.shape;
  let t = dy;
  let own = false;
  if (sw > 1) {
    const r = reshape(b, t, [n * ho, wo, 1, c], own);
    t = call(b, PadV2, { x: r }, { paddings: [[0, 0], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
    free(b, r);
    own = true;
  }
  if (sh > 1) {
    const r = reshape(b, t, [n, ho, 1, wo * sw * c], own);
    t = call(b, PadV2, { x: r }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0]], constantValue: 0 });
    free(b, r);
    own = true;
  }
  return reshape(b, t, [n, ho * sh, wo * sw, c], own);
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
  // Filter [kh,kw,Ci,Co] → flipped in space, channels swapped → [kh,kw,Co,Ci].
  const flipped = call(b, Reverse, { x: filter }, { dims: [0, 1] });
  const wT = transpose(b, flipped, [0, 1, 3, 2], true);
  const dyZ = sh > 1 || sw > 1 ? insertZeros(b, dy, sh, sw) : dy;
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  // Output rows: (Ho·sh + top + bottom) - kh + 1 = H.
  const pads = { top, left, bottom: h + kh - 1 - ho * sh - top, right: w + kw - 1 - wo * sw - left };
  const c = cropNegativePads(b, dyZ, pads, dyZ !== dy);
  const out = conv(b, c.x, wT, c.pads, [1, 1]);
  if (c.own) free(b, c.x);
  free(b, wT);
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
  if (c.own) free(b, c.x);
  free(b, dyT);
  return transpose(b, g, [1, 2, 0, 3], true);
};

/**
 * Registers both kernels for the 'wasm' backend on the shared tfjs-core kernel registry, replacing wasm's own
 * Conv2DBackpropInput. Idempotent (see overrideWasmKernel).
 * @returns which kernels were (re)registered by this call
 */
export function registerWasmConvKernels(): { registered: string[] } {
  const registered: string[] = [];
  for (const [name, fn] of [[Conv2DBackpropFilter, conv2DBackpropFilterWasm], [Conv2DBackpropInput, conv2DBackpropInputWasm]] as const) {
    if (overrideWasmKernel(name, fn).installed) registered.push(name);
  }
  return { registered };
}

/** True when this module's kernels are the ones registered for 'wasm'. */
export function wasmConvKernelsRegistered(): boolean {
  return isOurWasmKernel(Conv2DBackpropFilter) && isOurWasmKernel(Conv2DBackpropInput);
}
