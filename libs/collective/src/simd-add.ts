// Float32 `dst += src` and `v /= x` through a tiny WebAssembly SIMD kernel (f32x4, source: wasm/simd-add.wat): V8
// does not vectorise the plain JS loop, which costs ~2-6 ns per element; the kernel runs at memory speed. The operands
// are copied into the module's memory and the sum copied back (three memcpys of a 1 MiB chunk are cheaper than the
// scalar loop). Falls back to the JS loop when WebAssembly SIMD is unavailable. Results are identical: both are IEEE
// float32 operations. The module's bytes are generated from the .wat and committed (wasm/generated/), so nothing
// here needs a toolchain. Tested by simd-add.test.ts: node tools/run-tests.mjs libs/collective simd-add
import { simdAddWasm } from './wasm/generated/simd-add.wasm';

interface Kernel {
  mem: WebAssembly.Memory;
  add: (d: number, s: number, end: number) => void;
  div: (d: number, end: number, x: number) => void;
}
let kernel: Kernel | null | undefined;

function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(simdAddWasm()));
    kernel = { mem: inst.exports.mem as WebAssembly.Memory, add: inst.exports.add as Kernel['add'], div: inst.exports.div as Kernel['div'] };
  } catch {
    kernel = null;
  }
  return kernel;
}

/** Below this many elements the copies cost more than they save. */
const MIN_SIMD = 256;

function addLoop(dst: Float32Array, src: Float32Array, from: number, n: number): void {
  for (let i = from; i < n; i++) dst[i] += src[i];
}

/** dst[i] += src[i] in float32, i < src.length. */
export function addInto(dst: Float32Array, src: Float32Array): void {
  const n = src.length;
  const k = n >= MIN_SIMD ? load() : null;
  if (!k) return addLoop(dst, src, 0, n);
  const vec = n & ~3;
  const bytes = vec * 4;
  if (k.mem.buffer.byteLength < 2 * bytes) k.mem.grow(Math.ceil((2 * bytes - k.mem.buffer.byteLength) / 65536));
  const heap = new Float32Array(k.mem.buffer, 0, 2 * vec);
  heap.set(dst.subarray(0, vec), 0);
  heap.set(src.subarray(0, vec), vec);
  k.add(0, bytes, bytes);
  dst.set(heap.subarray(0, vec));
  addLoop(dst, src, vec, n);
}

/** v[i] = v[i] / x in float32 (x exactly representable, e.g. the world size). */
export function divideBy(v: Float32Array, x: number): void {
  const n = v.length;
  const k = n >= MIN_SIMD ? load() : null;
  let from = 0;
  if (k) {
    const vec = n & ~3;
    const bytes = vec * 4;
    if (k.mem.buffer.byteLength < bytes) k.mem.grow(Math.ceil((bytes - k.mem.buffer.byteLength) / 65536));
    const heap = new Float32Array(k.mem.buffer, 0, vec);
    heap.set(v.subarray(0, vec));
    k.div(0, bytes, x);
    v.set(heap);
    from = vec;
  }
  for (let i = from; i < n; i++) v[i] = v[i] / x;
}

/** Whether the SIMD kernel is in use (for benches and reports). */
export function simdAvailable(): boolean {
  return load() !== null;
}
