// Conv2DBackpropFilter for the tfjs webgpu backend as a tiled implicit GEMM in WGSL, installed in place of
// tfjs-backend-webgpu's own (which it calls for what it does not cover: NCHW, non-float32).
//
// Why: tfjs's kernel gives each filter element one thread that walks the whole batch through global memory, no reuse
// between threads; on an H200 the document DCGAN's 12 filter gradients took 169 of the step's 256 ms of GPU time at
// batch 64 (0.5-0.7 TFLOP/s, where a WebGPU matmul reached 12). The filter gradient is a matrix product,
//   dW[m, n] = Σ_k A[k, m]·B[k, n],  m = (kh, kw, ci), n = co, k = (b, oy, ox),
//   A[k, m] = x[b, oy·sh + kh − pt, ox·sw + kw − pl, ci] (0 outside x),  B[k, n] = dy[b, oy, ox, co],
// and here it runs as one, ./webgpu-tiled-gemm's (A read straight from x: no im2col tensor). Where dW has few tiles
// (the first layers: 48 × 64 is one tile) the k range is split over more workgroups (split-K, up to SPLIT_TARGET
// workgroups in all), each writing its partial tile, and a second dispatch adds the partials in slice order: a GPU
// fills only with many workgroups, and one that walked all of k alone would take ~1000 rounds.
// Each output is summed over k in tfjs's order (b, then oy, then ox), one float32 accumulator per slice: deterministic.
// Tests: node tools/run-tests.mjs libs/backend webgpu-conv-filter-gradient
import { backend_util, Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { overrideKernel } from './kernel-override';
import { i32, PerElementProgram, runProgram, touchAll, type KernelArgs } from './webgpu-channel-sum';
import { TILE, TILE_K, TiledGemmProgram, tiledGemmMain } from './webgpu-tiled-gemm';

/** Workgroups split-K aims for when dW has fewer tiles (an H200 has 132 SMs), and the fewest k values per slice. */
const SPLIT_TARGET = 128;
const MIN_SLICE_K = 16 * TILE_K;

const UNIFORMS = ['m', 'n', 'k', 'sliceK', 'inH', 'inW', 'inC', 'outH', 'outW', 'kW', 'strideH', 'strideW', 'padT', 'padL'];

/** How many slices to split k into for an m × n output: 1 where the tiles alone are enough workgroups. */
export function splitKSlices(m: number, n: number, k: number): number {
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE);
  return Math.max(1, Math.min(Math.ceil(SPLIT_TARGET / tiles), Math.floor(k / MIN_SLICE_K)));
}

/** dW, or with `slices` > 1 its partial sums [slices, ...dW's shape], slice z over k in [z·sliceK, (z + 1)·sliceK). */
class FilterGradientProgram extends TiledGemmProgram implements WebGPUProgram {
  variableNames = ['x', 'dy'];
  shaderKey = 'ganConvFilterGradient';

  constructor(filterShape: number[], m: number, n: number, slices: number) {
    super(slices > 1 ? [slices, ...filterShape] : filterShape, m, n, slices, UNIFORMS);
  }

  getUserCode(): string {
    return `
      var<workgroup> sliceOfGroup : i32;

      // The decode of the last m aAt saw: the same for every value a thread stages (its column of the tile), so its
      // divisions run once per thread, not once per value.
      var<private> lastM : i32 = -1;
      var<private> tapY : i32;
      var<private> tapX : i32;
      var<private> channel : i32;

      // A[k, m]: the x value that filter tap m meets at output position k (0 in the padding).
      fn aAt(k : i32, m : i32) -> f32 {
        if (k >= uniforms.k || m >= uniforms.m) { return 0.0; }
        if (m != lastM) {
          lastM = m;
          let tap = m / uniforms.inC;
          channel = m - tap * uniforms.inC;
          tapY = tap / uniforms.kW;
          tapX = tap - tapY * uniforms.kW;
        }
        let plane = uniforms.outH * uniforms.outW;
        let b = k / plane;
        let oy = (k - b * plane) / uniforms.outW;
        let ox = k - b * plane - oy * uniforms.outW;
        let iy = oy * uniforms.strideH + tapY - uniforms.padT;
        let ix = ox * uniforms.strideW + tapX - uniforms.padL;
        if (iy < 0 || iy >= uniforms.inH || ix < 0 || ix >= uniforms.inW) { return 0.0; }
        return x[((b * uniforms.inH + iy) * uniforms.inW + ix) * uniforms.inC + channel];
      }

      fn bAt(k : i32, n : i32) -> f32 {
        if (k >= uniforms.k || n >= uniforms.n) { return 0.0; }
        return dy[k * uniforms.n + n];
      }

      fn store(m : i32, n : i32, v : f32) { setOutputAtIndex((sliceOfGroup * uniforms.m + m) * uniforms.n + n, v); }
      ${tiledGemmMain(
        { kStart: 'slice * uniforms.sliceK', kEnd: 'min(uniforms.k, (slice + 1) * uniforms.sliceK)', kContiguousA: false, kContiguousB: false },
        // Through workgroup memory: the k loop has barriers, and the compiler takes tfjs's copy of the workgroup id
        // (a private variable) for non-uniform.
        `${touchAll(this.variableNames)}
        if (localIndex == 0u) { sliceOfGroup = i32(workgroupId.z); }
        let slice = workgroupUniformLoad(&sliceOfGroup);`,
      )}`;
  }
}

/** The partial sums [slices, ...] added in slice order: one thread per element of dW. */
class SliceSumProgram extends PerElementProgram implements WebGPUProgram {
  variableNames = ['partials'];
  shaderKey = 'ganConvFilterGradientSliceSum';
  uniforms = 'slices : i32,';

  getUserCode(): string {
    return `
      fn main(i : i32) {
        if (i < uniforms.size) {
          var s = 0.0;
          for (var z = 0; z < uniforms.slices; z = z + 1) { s = s + partials[z * uniforms.size + i]; }
          setOutputAtIndex(i, s);
        }
      }`;
  }
}

/** webgpu's own Conv2DBackpropFilter, for what this one does not cover. */
let webgpuFilterGradient: KernelFunc | null = null;

const filterGradient: KernelFunc = (a: KernelArgs) => {
  const { x, dy } = a.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = a.attrs as unknown as Conv2DBackpropFilterAttrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
    if (!webgpuFilterGradient) throw new Error('@gan/backend webgpu Conv2DBackpropFilter used before registerWebgpuConvFilterGradient()');
    return webgpuFilterGradient(a);
  }
  const c = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, format);
  const m = c.filterHeight * c.filterWidth * c.inChannels;
  const n = c.outChannels;
  const k = c.batchSize * c.outHeight * c.outWidth;
  const slices = splitKSlices(m, n, k);
  const sliceK = Math.ceil(k / slices / TILE_K) * TILE_K;
  const values = [m, n, k, sliceK, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.filterWidth, c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left];
  const out = runProgram(a, new FilterGradientProgram(filterShape, m, n, slices), [x, dy], values.map(i32));
  if (slices === 1) return out;
  const dw = runProgram(a, new SliceSumProgram(filterShape), [out], [i32(slices)]);
  (a.backend as unknown as WebGPUBackend).disposeData(out.dataId);
  return dw;
};

/** Installs the filter gradient as webgpu's Conv2DBackpropFilter (once; later calls do nothing). */
export function registerWebgpuConvFilterGradient(): void {
  const { installed, replaced } = overrideKernel('webgpu', Conv2DBackpropFilter, filterGradient);
  if (installed) webgpuFilterGradient = replaced?.kernelFunc ?? null;
}
