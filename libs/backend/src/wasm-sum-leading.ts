/**
 * Column sums of a float32 [outer, inner] array into float64 accumulators with the WebAssembly SIMD kernel
 * wasm/sum-leading.wat (compiled by tools/build-wasm.mjs): the leading-axes case of the wasm Sum/Mean kernels,
 * which BatchNorm's statistics and gradients and every bias gradient hit. The kernel adds in the order of the JS
 * loop in ./wasm-reduce-kernels (the tests compare bits), at ~0.4 ns a value against 1.6-2.4 ns for the loop; the
 * input is first copied into the kernel's own memory (tfjs's heap is not importable: shared in its threaded
 * build, private in the other), which costs ~0.1 ns a value. Not a runnable file.
 */
import { sumLeadingWasm } from './wasm/generated/sum-leading.wasm';

interface SumLeadingExports {
  sumLeading(x: number, outer: number, inner: number, acc: number): void;
}

let kernel: { fns: SumLeadingExports; memory: WebAssembly.Memory } | null = null;

/** True when the SIMD kernel takes this shape: whole f32x4 vectors per row. */
export function simdSumLeadingFits(inner: number): boolean {
  return inner > 0 && inner % 4 === 0;
}

/**
 * acc[c] += Σ_r x[r·inner + c] for r < outer, as ./wasm-reduce-kernels' sumLeading does it.
 * @param x [outer, inner] float32 (a view into any memory)
 * @param acc [inner] float64
 */
export function simdSumLeading(x: Float32Array, outer: number, inner: number, acc: Float64Array): void {
  if (!simdSumLeadingFits(inner)) throw new Error(`simdSumLeading: inner ${inner} is not a positive multiple of 4`);
  if (x.length < outer * inner || acc.length < inner) throw new Error(`simdSumLeading: arrays too short for [${outer}, ${inner}]`);
  const accOff = 0;
  const xOff = Math.ceil((inner * 8) / 16) * 16;
  const bytes = xOff + outer * inner * 4;
  if (!kernel) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const fns = new WebAssembly.Instance(new WebAssembly.Module(sumLeadingWasm()), { env: { memory } }).exports as unknown as SumLeadingExports;
    kernel = { fns, memory };
  }
  const have = kernel.memory.buffer.byteLength;
  if (bytes > have) kernel.memory.grow(Math.ceil((bytes - have) / 65536));
  const buf = kernel.memory.buffer;
  const a = new Float64Array(buf, accOff, inner);
  a.set(acc.subarray(0, inner));
  new Float32Array(buf, xOff, outer * inner).set(x.subarray(0, outer * inner));
  kernel.fns.sumLeading(xOff, outer, inner, accOff);
  acc.set(a);
}
