// The input gradient of a convolution (also conv2dTranspose's forward pass) as one XNNPACK GEMM with the filter as
// its left operand, then col2im: the route for layers whose filter is large next to their activations.
//
// Why: wasm's Conv2D re-lays out and packs its filter whenever the filter is new (a 2-D transpose in tfjs, then
// XNNPACK's packing: 17-25 ns a value in isolation), and every weight is new every step. The sub-pixel route in
// ./wasm-conv-kernels feeds four sub-filters of the whole filter to Conv2D: G's 4×4×512×1024 layer at batch 16 took
// 284 ms with a new filter against 90 ms with a known one (2 threads); this route takes 107 ms. Here the filter is never
// packed: the GEMM takes it as it lies, and only dyᵀ, the small side for such layers, is packed as XNNPACK's weights:
//   colsᵀ[(a,b,ci), m] = Σ_co w[a,b,ci,co] · dyᵀ[co, m],   m = (n,i,j) over dy's pixels
//   dx[n, i·sh + a - pt, j·sw + b - pl, ci] = Σ_(a,b) colsᵀ[(a,b,ci), m]   (col2im, taps in order a, b)
// The multiply-adds are the ones the sub-pixel route does; the extra work moves kh·kw·Ci·M values (cols) instead
// of preparing kh·kw·Ci·Co weights, so it pays when M = N·Ho·Wo is small next to Co (preferGemmInputGradient).
// Each dx value is a sum of per-tap dot products in a fixed order, so the result depends only on the shapes, never
// on the thread count: replicas that run the same shapes get the same bits.
// Tests: node tools/run-tests.mjs libs/backend wasm-conv
import { BatchMatMul, Transpose, type backend_util, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { callWasmKernel, freeAll, viewAs, type WasmBackendLike } from './wasm-kernel-call';

/**
 * True when the GEMM + col2im route should beat preparing the sub-filters (see the file header): the columns it
 * moves (kh·kw·Ci per dy pixel) are no more than the filter's own kh·kw·Ci·Co values, i.e. N·Ho·Wo ≤ Co.
 * Shapes alone decide, so every rank of a run takes the same route.
 */
export function preferGemmInputGradient(info: backend_util.Conv2DInfo): boolean {
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  return pixels <= info.outChannels;
}

/**
 * dx [N,H,W,Ci] of a Conv2D(x [N,H,W,Ci], filter [kh,kw,Ci,Co]) with the geometry of `info`, given dy [N,Ho,Wo,Co].
 * Float32 NHWC, dilation 1 (what the caller checked).
 */
export function inputGradientByGemm(b: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const m = n * ho * wo;
  const r = kh * kw * ci;
  const dyT = callWasmKernel(b, Transpose, { x: viewAs(dy, [m, co]) }, { perm: [1, 0] } as unknown as NamedAttrMap);
  let colsT: TensorInfo;
  try {
    colsT = callWasmKernel(b, BatchMatMul, { a: viewAs(filter, [1, r, co]), b: viewAs(dyT, [1, co, m]) }, { transposeA: false, transposeB: false } as unknown as NamedAttrMap);
  } finally {
    freeAll(b, dyT); // also drops the XNNPACK operator that packed it
  }
  const cols = callWasmKernel(b, Transpose, { x: viewAs(colsT, [r, m]) }, { perm: [1, 0] } as unknown as NamedAttrMap);
  freeAll(b, colsT);
  const out = b.makeOutput([n, h, w, ci], 'float32');
  // Views only now: every allocation is done, so wasm memory cannot grow (and detach them) while they are in use.
  const dst = b.typedArrayFromHeap(out) as Float32Array;
  const src = b.typedArrayFromHeap(cols) as Float32Array;
  dst.fill(0);
  let s = 0; // cols row of pixel (img, i, j): kh·kw·ci values, tap (a, b) at (a·kw + b)·ci
  for (let img = 0; img < n; img++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++, s += r) {
        for (let a = 0; a < kh; a++) {
          const y = i * sh + a - pt;
          if (y < 0 || y >= h) continue;
          for (let bb = 0; bb < kw; bb++) {
            const x = j * sw + bb - pl;
            if (x < 0 || x >= w) continue;
            const d = ((img * h + y) * w + x) * ci;
            const so = s + (a * kw + bb) * ci;
            for (let c = 0; c < ci; c++) dst[d + c] += src[so + c];
          }
        }
      }
    }
  }
  freeAll(b, cols);
  return out;
}
