// The tiled matrix-product loop of @gan/backend's WGSL convolution kernels (./webgpu-conv-filter-gradient):
// C[m, n] = Σ_k A[k, m]·B[k, n] where A and B are not tensors but WGSL functions that read them out of the
// convolution's own tensors (an implicit GEMM: no im2col copy). Not a runnable file; tested through that kernel.
//
// Each workgroup of 16×16 threads owns a 64×64 tile of C (n from workgroupId.x, m from workgroupId.y); per round it
// stages 16 values of k of A's and B's tiles in workgroup memory and each thread adds a 4×4 block into registers, so
// a value read from memory feeds 64 multiply-adds instead of 1. Each output sums its k in ascending order.

/** Tile edge in C's rows (m) and columns (n), and the k values staged per round. */
export const TILE = 64;
export const TILE_K = 16;
/** Threads per workgroup side; each owns TILE / THREADS = 4 rows and 4 columns of the tile. */
export const THREADS = 16;
const PER_THREAD = TILE / THREADS;
const STAGED = (TILE_K * TILE) / (THREADS * THREADS);

/**
 * The fields of a tiled-GEMM program over an m × n matrix (in `layers` independent layers along workgroupId.z) whose
 * output tensor has `outputShape`; `uniformNames` become i32 uniforms. Subclasses add variableNames, shaderKey and
 * the code.
 */
export abstract class TiledGemmProgram {
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, THREADS, 1];
  uniforms: string;

  constructor(outputShape: number[], m: number, n: number, layers: number, uniformNames: string[]) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(n / TILE), Math.ceil(m / TILE), layers];
    this.uniforms = uniformNames.map((u) => `${u} : i32,`).join(' ');
  }
}

export interface TiledGemmOptions {
  /** WGSL expressions (i32, uniform across the workgroup) bounding this workgroup's k: [kStart, kEnd). */
  kStart: string;
  kEnd: string;
  /**
   * Whether consecutive threads stage consecutive k (else consecutive m or n) of A's (B's) tile: pick what is
   * contiguous in the tensor behind it, so a round's reads coalesce.
   */
  kContiguousA: boolean;
  kContiguousB: boolean;
}

/**
 * WGSL for the workgroup memory and `fn main(index : i32)`. The shader must define fn aAt(k : i32, m : i32) -> f32
 * and fn bAt(k : i32, n : i32) -> f32 (0 outside A and B; they are called with k up to kEnd + 15 and m, n past the
 * matrix edges), fn store(m : i32, n : i32, v : f32) (called only for m < uniforms.m, n < uniforms.n), and uniforms
 * m and n; `prologue` runs first in main (declarations kStart and kEnd may use).
 */
export function tiledGemmMain(o: TiledGemmOptions, prologue = ''): string {
  const unroll = (f: (i: number) => string) => Array.from({ length: PER_THREAD }, (_, i) => f(i)).join(' ');
  const stage = (contiguousK: boolean) =>
    contiguousK ? { k: `e % ${TILE_K}`, mn: `e / ${TILE_K}` } : { k: `e / ${TILE}`, mn: `e % ${TILE}` };
  const a = stage(o.kContiguousA);
  const b = stage(o.kContiguousB);
  return `
      var<workgroup> tileA : array<f32, ${TILE_K * TILE}>;
      var<workgroup> tileB : array<f32, ${TILE_K * TILE}>;

      fn main(index : i32) {
        ${prologue}
        let tx = i32(localId.x);
        let ty = i32(localId.y);
        let t = ty * ${THREADS} + tx;
        let n0 = i32(workgroupId.x) * ${TILE};
        let m0 = i32(workgroupId.y) * ${TILE};
        let kEnd = ${o.kEnd};
        var acc : array<array<f32, ${PER_THREAD}>, ${PER_THREAD}>;
        for (var k0 = ${o.kStart}; k0 < kEnd; k0 = k0 + ${TILE_K}) {
          for (var l = 0; l < ${STAGED}; l = l + 1) {
            let e = l * ${THREADS * THREADS} + t;
            // Staged as tile[k][m or n]; a k at or past kEnd (the next workgroup's) reads as 0.
            let ka = k0 + ${a.k};
            tileA[(${a.k}) * ${TILE} + ${a.mn}] = select(0.0, aAt(ka, m0 + ${a.mn}), ka < kEnd);
            let kb = k0 + ${b.k};
            tileB[(${b.k}) * ${TILE} + ${b.mn}] = select(0.0, bAt(kb, n0 + ${b.mn}), kb < kEnd);
          }
          workgroupBarrier();
          for (var kk = 0; kk < ${TILE_K}; kk = kk + 1) {
            var a : array<f32, ${PER_THREAD}>;
            var b : array<f32, ${PER_THREAD}>;
            ${unroll((i) => `a[${i}] = tileA[kk * ${TILE} + ty * ${PER_THREAD} + ${i}]; b[${i}] = tileB[kk * ${TILE} + tx * ${PER_THREAD} + ${i}];`)}
            ${unroll((i) => unroll((j) => `acc[${i}][${j}] = acc[${i}][${j}] + a[${i}] * b[${j}];`))}
          }
          workgroupBarrier();
        }
        for (var i = 0; i < ${PER_THREAD}; i = i + 1) {
          let m = m0 + ty * ${PER_THREAD} + i;
          for (var j = 0; j < ${PER_THREAD}; j = j + 1) {
            let n = n0 + tx * ${PER_THREAD} + j;
            if (m < uniforms.m && n < uniforms.n) { store(m, n, acc[i][j]); }
          }
        }
      }`;
}
