// Sum and Mean kernels for the tfjs wasm backend that accumulate in float64, like tfjs-cpu (JS numbers) and close
// to PyTorch's cascaded float32 sums.
//
// Why: tfjs-backend-wasm 4.22 reduces with one running float32 accumulator per output (transpose, then
// `sum += x` along the row). Its error grows with the row length and with cancellation, and BatchNorm's backward
// pass is made of such sums over B·H·W values per channel whose terms nearly cancel: at the document's DCGAN (batch
// 4, a G step) some came out off by up to 90 % of their own value. Those particular sums are small next to the
// terms they join, so the step's gradients moved by less than the PyTorch reference suite's 1e-4 (measured with
// identical ReLU branches: 4.6e-5 of a tensor's largest gradient before, 3.9e-5 after, on the same data); the
// larger differences first blamed on them (issue 10) were ReLU kinks (see test/torch-reference.test.ts). Float64
// accumulation makes every sum and mean exact to the float32 rounding of its result, at no measurable cost (the
// step took 5.0 s, 5.3 s before), so BatchNorm's statistics no longer depend on the reduction order.
//
// The loops read and write the wasm heap directly: reducing leading axes (the BatchNorm / bias-gradient case,
// [B,H,W,C] → [C]) walks the input once in memory order; reducing trailing axes sums each row; any other axis set
// is first transposed (wasm Transpose kernel) so the reduced axes come last. Non-float32 inputs keep wasm's own
// kernels. Tests: node tools/run-tests.mjs libs/backend
import {
  backend_util,
  getKernel,
  Mean,
  Sum,
  Transpose,
  util,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { isOurWasmKernel, overrideWasmKernel } from './kernel-override';
import { simdSumLeading, simdSumLeadingFits } from './wasm-sum-leading';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** wasm's own kernels, kept for the dtypes these do not handle (int32, bool). */
const fallback = new Map<string, KernelFunc>();

/**
 * Sums of `x` (row-major, `outer`·`inner` values viewed as [outer, inner]) over the outer index into `acc[inner]`.
 * One pass in memory order; float64 accumulators, fed four rows at a time (pairwise) so each accumulator is loaded
 * and stored once per four values: twice as fast as one row at a time (3.7 → 1.6-2.4 ns a value). Rows of whole
 * f32x4 vectors go to the SIMD kernel (./wasm-sum-leading), which adds in this order; the rest come here.
 */
export function sumLeading(x: Float32Array, outer: number, inner: number, acc: Float64Array): void {
  let r = 0;
  let o = 0;
  for (; r + 4 <= outer; r += 4, o += 4 * inner) {
    const o1 = o + inner;
    const o2 = o1 + inner;
    const o3 = o2 + inner;
    for (let c = 0; c < inner; c++) acc[c] += (x[o + c] + x[o1 + c]) + (x[o2 + c] + x[o3 + c]);
  }
  for (; r < outer; r++, o += inner) {
    for (let c = 0; c < inner; c++) acc[c] += x[o + c];
  }
}

/** Sums of `x` viewed as [rows, len] over len into `acc[rows]`, float64 accumulators. */
function sumTrailing(x: Float32Array, rows: number, len: number, acc: Float64Array): void {
  for (let r = 0, o = 0; r < rows; r++, o += len) {
    let s = 0;
    for (let j = 0; j < len; j++) s += x[o + j];
    acc[r] = s;
  }
}

/**
 * The reduction itself. x: float32 of any rank; axis as tfjs accepts it (number, list, negative). Returns a new
 * float32 tensor of the reduced shape (reduced axes kept as 1 when keepDims), each value Σ (or mean) in float64.
 */
function reduce(backend: WasmBackendLike, x: TensorInfo, axisAttr: number | number[], keepDims: boolean, mean: boolean): TensorInfo {
  const rank = x.shape.length;
  const axes = [...new Set(util.parseAxisParam(axisAttr, x.shape))].sort((a, b) => a - b);
  const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
  const n = util.sizeFromShape(reduceShape);
  const outSize = util.sizeFromShape(outShape);
  const acc = new Float64Array(outSize);
  const leading = axes.every((a, i) => a === i);
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  let src = x;
  let temp: TensorInfo | null = null;
  if (!leading && !trailing) {
    // Move the reduced axes last, keeping the order of the others, so the output stays in x's order.
    const perm = [...x.shape.keys()].filter((a) => !axes.includes(a)).concat(axes);
    const k = getKernel(Transpose, 'wasm');
    if (!k) throw new Error('wasm backend has no Transpose kernel, needed by @gan/backend reduce kernels');
    temp = k.kernelFunc({ inputs: { x }, backend, attrs: { perm } as unknown as NamedAttrMap }) as TensorInfo;
    src = temp;
  }
  const out = backend.makeOutput(keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape, 'float32');
  // Views after makeOutput: an allocation may grow the wasm memory and detach earlier views.
  const xs = backend.typedArrayFromHeap(src) as Float32Array;
  if (leading && !trailing) (simdSumLeadingFits(outSize) ? simdSumLeading : sumLeading)(xs, n, outSize, acc);
  else sumTrailing(xs, outSize, n, acc);
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const scale = mean ? 1 / n : 1;
  for (let i = 0; i < outSize; i++) o[i] = mean ? acc[i] * scale : acc[i];
  if (temp) backend.disposeData(temp.dataId);
  return out;
}

function reduceKernel(kernelName: string, mean: boolean): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32') return fallback.get(kernelName)!(args);
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    return reduce(args.backend as unknown as WasmBackendLike, x, axis, Boolean(keepDims), mean);
  };
}

/** Sum for 'wasm' with float64 accumulation (float32 inputs; other dtypes go to wasm's own kernel). */
export const sumWasm: KernelFunc = reduceKernel(Sum, false);
/** Mean for 'wasm' with float64 accumulation (float32 inputs; other dtypes go to wasm's own kernel). */
export const meanWasm: KernelFunc = reduceKernel(Mean, true);

/**
 * Replaces wasm's Sum and Mean on the shared tfjs-core kernel registry (wasm's own stay in use for int32 and bool).
 * Idempotent (see overrideWasmKernel).
 * @returns which kernels were (re)registered by this call
 */
export function registerWasmReduceKernels(): { registered: string[] } {
  const registered: string[] = [];
  for (const [name, fn] of [[Sum, sumWasm], [Mean, meanWasm]] as const) {
    if (!isOurWasmKernel(name) && !getKernel(name, 'wasm')) {
      throw new Error(`wasm backend has no ${name} kernel to wrap; import @tensorflow/tfjs-backend-wasm first`);
    }
    const r = overrideWasmKernel(name, fn);
    if (!r.installed) continue;
    fallback.set(name, r.replaced!.kernelFunc);
    registered.push(name);
  }
  return { registered };
}

/** True when this module's Sum and Mean are the ones registered for 'wasm'. */
export function wasmReduceKernelsRegistered(): boolean {
  return isOurWasmKernel(Sum) && isOurWasmKernel(Mean);
}
