// Conv2D for the tfjs wasm backend: wasm's own (XNNPACK) convolution, except for layers whose filter is large next
// to the pixels it produces, which run as one GEMM with the filter, transposed, as the left operand.
//
// Why: wasm's Conv2D prepares a new filter at 17-25 ns a value in isolation (a 2-D transpose in tfjs, then XNNPACK's
// packing), and every weight is new every step: G's first layer of the default DCGAN (input gradient: a 4×4×512×1024
// filter over 256 output pixels at batch 16) and D's last layer (twice a step) pay it. With this route and
// ./wasm-conv-input-gemm the default/16 step went from 2674 to 2576 ms at 2 threads and from 4290 to 4224 ms at 1
// (bench:step, one run each). Here the filter is moved once by the Transpose kernel (~2 ns a value) and XNNPACK packs the
// im2col columns instead, the small side for such layers:
//   yᵀ[co, m] = Σ_k wᵀ[co, k] · Pᵀ[k, m],  P[m, (a,b,ci)] = x[n, i·sh + a - pt, j·sw + b - pl, ci] (0 outside x),
//   m = (n,i,j) over the output pixels.
// preferGemmConv takes this route when the columns (kh·kw·Ci per output pixel) are no more than the filter's
// kh·kw·Ci·Co values, i.e. N·Ho·Wo ≤ Co. Shapes alone decide, so every rank of a run takes the same route, and the
// GEMM never splits the sum over k, so the result does not depend on the thread count.
// @gan/backend's own kernels that compose convolutions call wasm's kernel directly (xnnConv2D): their filters are
// sub-filters they cache, or gradients with a dilation, for which XNNPACK's own route is right.
// Tests: node tools/run-tests.mjs libs/backend wasm-conv
import { backend_util, BatchMatMul, Conv2D, getKernel, Transpose, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { callWasmKernel, freeAll, viewAs, type WasmBackendLike } from './wasm-kernel-call';
import { isOurWasmKernel, overrideWasmKernel } from './kernel-override';

/** wasm's own Conv2D (XNNPACK). */
let wasmConv2D: KernelFunc | null = null;

/** Runs wasm's own Conv2D, whatever is registered for 'wasm' under Conv2D. */
export function xnnConv2D(backend: WasmBackendLike, inputs: { x: TensorInfo; filter: TensorInfo }, attrs: NamedAttrMap): TensorInfo {
  const k = wasmConv2D ?? getKernel(Conv2D, 'wasm')?.kernelFunc;
  if (!k) throw new Error('wasm backend has no Conv2D kernel, needed by @gan/backend conv kernels');
  return k({ inputs, backend, attrs }) as TensorInfo;
}

/** True when the transposed-GEMM route should beat wasm's Conv2D for a new filter (see the file header). */
export function preferGemmConv(info: backend_util.Conv2DInfo): boolean {
  return info.batchSize * info.outHeight * info.outWidth <= info.outChannels;
}

/**
 * y [N,Ho,Wo,Co] = conv2d(x [N,H,W,Ci], filter [kh,kw,Ci,Co]) with the geometry of `info` (dilation 1, float32 NHWC).
 */
export function convByGemm(b: WasmBackendLike, x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const m = n * ho * wo;
  const k = kh * kw * ci;
  const cols = b.makeOutput([m, k], 'float32');
  {
    // Views only after the allocation: wasm memory may grow (and detach earlier views) when it allocates.
    const dst = b.typedArrayFromHeap(cols) as Float32Array;
    const src = b.typedArrayFromHeap(x) as Float32Array;
    let d = 0;
    for (let img = 0; img < n; img++) {
      for (let i = 0; i < ho; i++) {
        for (let j = 0; j < wo; j++) {
          for (let a = 0; a < kh; a++) {
            const y = i * sh + a - pt;
            for (let bb = 0; bb < kw; bb++, d += ci) {
              const xx = j * sw + bb - pl;
              if (y < 0 || y >= h || xx < 0 || xx >= w) dst.fill(0, d, d + ci);
              else {
                const s = ((img * h + y) * w + xx) * ci;
                dst.set(src.subarray(s, s + ci), d);
              }
            }
          }
        }
      }
    }
  }
  const perm = { perm: [1, 0] } as unknown as NamedAttrMap;
  const colsT = callWasmKernel(b, Transpose, { x: cols }, perm); // [k, m]
  freeAll(b, cols);
  const wT = callWasmKernel(b, Transpose, { x: viewAs(filter, [k, co]) }, perm); // [co, k]
  let yT: TensorInfo;
  try {
    yT = callWasmKernel(b, BatchMatMul, { a: viewAs(wT, [1, co, k]), b: viewAs(colsT, [1, k, m]) }, { transposeA: false, transposeB: false } as unknown as NamedAttrMap);
  } finally {
    freeAll(b, wT, colsT); // colsT's XNNPACK operator goes with it
  }
  const y = callWasmKernel(b, Transpose, { x: viewAs(yT, [co, m]) }, perm);
  freeAll(b, yT);
  return { dataId: y.dataId, shape: [n, ho, wo, co], dtype: 'float32' };
}

/** Conv2D for 'wasm': the GEMM route where preferGemmConv says so, wasm's own otherwise. */
export const conv2DWasm: KernelFunc = (args) => {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const a = args.attrs as unknown as { strides: number | [number, number]; pad: backend_util.PadInfo['type'] | number | backend_util.ExplicitPadding; dataFormat?: string; dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const plain = x.dtype === 'float32' && filter.dtype === 'float32' && (a.dataFormat ?? 'NHWC') === 'NHWC' && backend_util.tupleValuesAreOne(a.dilations ?? 1);
  if (plain) {
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], a.strides, 1, a.pad as never, a.dimRoundingMode, false, 'channelsLast');
    if (preferGemmConv(info)) return convByGemm(args.backend as unknown as WasmBackendLike, x, filter, info);
  }
  return xnnConv2D(args.backend as unknown as WasmBackendLike, { x, filter }, args.attrs as NamedAttrMap);
};

/**
 * Replaces wasm's Conv2D on the shared tfjs-core kernel registry. Idempotent (see overrideWasmKernel).
 * @returns whether this call installed it
 */
export function registerWasmConv2DKernel(): { registered: boolean } {
  if (!isOurWasmKernel(Conv2D) && !getKernel(Conv2D, 'wasm')) {
    throw new Error('wasm backend has no Conv2D kernel to wrap; import @tensorflow/tfjs-backend-wasm first');
  }
  const r = overrideWasmKernel(Conv2D, conv2DWasm);
  if (r.installed) wasmConv2D = r.replaced!.kernelFunc;
  return { registered: r.installed };
}

/** True when this module's Conv2D is the one registered for 'wasm'. */
export function wasmConv2DKernelRegistered(): boolean {
  return isOurWasmKernel(Conv2D);
}
