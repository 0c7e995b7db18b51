// Transpose for the tfjs wasm backend, written between the two tensors' bytes in wasm memory in cache-sized tiles.
//
// Why: tfjs-backend-wasm 4.22's Transpose walks the output in order and reads the input one element per stride, at
// 3-6 ns a value here (512×128 [1,0]: 0.39 ms; NHWC→CHWN of 64×16×16×64: 6.2 ms). It runs before every transposed
// matmul (both halves of each linear layer's backward pass) and twice in every conv filter gradient, so it was 9 % of
// the MLP step and ~30 ms of a small-DCGAN step. Here axes that stay adjacent are merged first, and the two axes
// that trade places (the input's innermost and the output's) are swapped eight output columns at a time, so that
// reads and writes both run sequentially: 1.5-4× faster on the step's shapes. Permutations that keep the innermost
// axis innermost move whole rows, which wasm's own kernel does faster than JS, so they stay with it.
// Values are moved, never computed, so the result is the same bits as wasm's own kernel (the tests compare them).
// Tests: node tools/run-tests.mjs libs/backend wasm-transpose
import { getKernel, Transpose, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { isOurWasmKernel, overrideWasmKernel } from './kernel-override';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: TensorInfo['dtype']): TensorInfo;
  /** a view of the tensor's bytes in wasm memory: valid until the next allocation (memory may grow) */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type Heap = Float32Array | Int32Array | Uint8Array;

/** wasm's own Transpose: for whole-row moves, and for dtypes not held in the wasm heap as one typed array (string, complex64). */
let wasmTranspose: KernelFunc | null = null;

/**
 * The same permutation on the fewest axes: size-1 axes dropped, and input axes that stay next to each other in the
 * output merged into one. `shape` [d0..dr-1], `perm` a permutation of 0..r-1 → an equivalent (shape, perm).
 */
export function collapseTranspose(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => shape[a] !== 1);
  // Runs of consecutive input axes in output order become one axis each.
  const runs: number[][] = [];
  for (const a of kept) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] + 1 === a) last.push(a);
    else runs.push([a]);
  }
  // Number the runs by where they start in the input.
  const order = runs.map((_, i) => i).sort((x, y) => runs[x][0] - runs[y][0]);
  const newShape = order.map((i) => runs[i].reduce((n, a) => n * shape[a], 1));
  const rank = new Array<number>(runs.length);
  order.forEach((runIdx, inAxis) => (rank[runIdx] = inAxis));
  return { shape: newShape, perm: rank };
}

/** True when a collapsed permutation keeps src's innermost axis innermost, so rows move whole. */
function rowsStayWhole(c: { shape: number[]; perm: number[] }): boolean {
  return c.shape.length >= 2 && c.perm[c.perm.length - 1] === c.perm.length - 1;
}

/** Row-major strides of `shape`. */
function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * Calls `body(inOffset, outOffset)` once per index of the given axes (sizes with their input and output strides),
 * in row-major order of the output.
 */
function forEachOuter(sizes: number[], inStr: number[], outStr: number[], body: (i: number, o: number) => void): void {
  const n = sizes.length;
  const idx = new Array<number>(n).fill(0);
  let i = 0;
  let o = 0;
  for (;;) {
    body(i, o);
    let k = n - 1;
    while (k >= 0) {
      idx[k]++;
      i += inStr[k];
      o += outStr[k];
      if (idx[k] < sizes[k]) break;
      i -= inStr[k] * sizes[k];
      o -= outStr[k] * sizes[k];
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

/**
 * dst = src transposed by `perm`, both dense row-major; `shape` is src's. For permutations that move the innermost
 * axis (see rowsStayWhole): whole-row moves are left to wasm's own kernel, whose memcpy per row beats a JS loop.
 */
export function transposeInto(src: Heap, dst: Heap, shape: readonly number[], perm: readonly number[]): void {
  transposeCollapsed(src, dst, collapseTranspose(shape, perm));
}

/** transposeInto on an already collapsed (shape, perm) (see collapseTranspose). */
function transposeCollapsed(src: Heap, dst: Heap, c: { shape: number[]; perm: number[] }): void {
  if (dst.length === 0) return;
  const r = c.shape.length;
  if (r <= 1) {
    dst.set(src.subarray(0, dst.length));
    return;
  }
  if (rowsStayWhole(c)) throw new Error('transposeInto: the innermost axis stays innermost (rows move whole); use a row copy');
  const inStrides = stridesOf(c.shape);
  const outShape = c.perm.map((a) => c.shape[a]);
  const outStrides = stridesOf(outShape);
  const p = c.perm.indexOf(r - 1);
  const sizes: number[] = [];
  const inStr: number[] = [];
  const outStr: number[] = [];
  for (let k = 0; k < r - 1; k++) {
    if (k === p) continue;
    sizes.push(outShape[k]);
    inStr.push(inStrides[c.perm[k]]);
    outStr.push(outStrides[k]);
  }
  // One axis is contiguous in the input (output axis p) and another in the output (the last): those two trade
  // places, eight output columns at a time.
  const ni = c.shape[r - 1];
  const op = outStrides[p];
  const nj = outShape[r - 1];
  const sa = inStrides[c.perm[r - 1]];
  forEachOuter(sizes, inStr, outStr, (bi, bo) => {
    // Eight input rows are read side by side and each step writes eight neighbouring outputs: both streams stay
    // sequential. (A square-tile loop was 2-3× slower in V8.)
    let j = 0;
    for (; j + 8 <= nj; j += 8) {
      const s0 = bi + j * sa;
      const s1 = s0 + sa, s2 = s1 + sa, s3 = s2 + sa, s4 = s3 + sa, s5 = s4 + sa, s6 = s5 + sa, s7 = s6 + sa;
      let o = bo + j;
      for (let i = 0; i < ni; i++, o += op) {
        dst[o] = src[s0 + i];
        dst[o + 1] = src[s1 + i];
        dst[o + 2] = src[s2 + i];
        dst[o + 3] = src[s3 + i];
        dst[o + 4] = src[s4 + i];
        dst[o + 5] = src[s5 + i];
        dst[o + 6] = src[s6 + i];
        dst[o + 7] = src[s7 + i];
      }
    }
    for (; j < nj; j++) {
      const s0 = bi + j * sa;
      let o = bo + j;
      for (let i = 0; i < ni; i++, o += op) dst[o] = src[s0 + i];
    }
  });
}

/** Transpose for 'wasm': x [d0..dr-1], attrs.perm → [d_perm[0]..d_perm[r-1]]. */
export const transposeWasm: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as unknown as { perm: number[] };
  if (x.dtype === 'string' || x.dtype === 'complex64') return wasmTranspose!(args);
  const c = collapseTranspose(x.shape, perm);
  if (rowsStayWhole(c)) return wasmTranspose!(args);
  const backend = args.backend as unknown as WasmBackendLike;
  const out = backend.makeOutput(perm.map((a) => x.shape[a]), x.dtype);
  // Views are taken after makeOutput: an allocation may grow (and so move) the heap.
  transposeCollapsed(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), c);
  return out;
};

/**
 * Replaces wasm's Transpose on the shared tfjs-core kernel registry. Idempotent (see overrideWasmKernel).
 * @returns whether this call installed it
 */
export function registerWasmTransposeKernel(): { registered: boolean } {
  if (!isOurWasmKernel(Transpose) && !getKernel(Transpose, 'wasm')) {
    throw new Error('wasm backend has no Transpose kernel to wrap; import @tensorflow/tfjs-backend-wasm first');
  }
  const r = overrideWasmKernel(Transpose, transposeWasm);
  if (r.installed) wasmTranspose = r.replaced!.kernelFunc;
  return { registered: r.installed };
}

/** True when this module's Transpose is the one registered for 'wasm'. */
export function wasmTransposeKernelRegistered(): boolean {
  return isOurWasmKernel(Transpose);
}
