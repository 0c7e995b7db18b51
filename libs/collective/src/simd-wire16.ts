// WebAssembly SIMD kernels for the 16-bit wire (fp16 and bf16): float32 -> 16-bit encode, 16-bit -> float32
// decode, decode-and-add, and quantize-in-place, 8 elements per loop iteration. Their source, with the reasoning
// behind each bit trick, is wasm/simd-wire16.wat; the bytes are generated from it and committed (wasm/generated/), so
// nothing here needs a toolchain. V8 does not vectorise the branchy scalar loops of wire-format.ts (1.5-3 ns per
// element on the 2-vCPU dev box); these take 0.2-0.8 ns per element including the copies. Every function handles the
// leading multiple of 8 elements and returns how many it did (0 when WebAssembly SIMD is unavailable); wire-format.ts
// finishes the tail with its scalar reference and checks once that the kernels agree with that reference bit for bit
// before using them.
// Operands are copied through the module's memory in blocks of BLOCK elements (L2-sized, so the copies stay cheap).
// Tested by simd-wire16.test.ts: node tools/run-tests.mjs libs/collective simd-wire16
import { simdWire16Wasm } from './wasm/generated/simd-wire16.wasm';

/**
 * Elements per block; the memory holds one float32 block at 0 and one 16-bit block at OFF16. The .wat lays out the
 * same memory (its constant pool starts right after the 16-bit block, at BLOCK * 6), so change both together.
 */
const BLOCK = 32768;
const OFF16 = BLOCK * 4;
/** Below this many elements the per-call overhead costs more than the kernel saves. */
const MIN_SIMD = 64;

const NAMES = ['encF16', 'encBf16', 'decF16', 'decBf16', 'addF16', 'addBf16', 'quantF16', 'quantBf16'] as const;
type KernelName = (typeof NAMES)[number];

type Fn = (s: number, d: number, end: number) => void;
interface Kernel {
  fn: Record<KernelName, Fn>;
  h32: Uint32Array; // float32 block at 0
  h16: Uint16Array; // 16-bit block at OFF16
}
let kernel: Kernel | null | undefined;

function load16(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(simdWire16Wasm()));
    const mem = inst.exports.mem as WebAssembly.Memory;
    const fn = Object.fromEntries(NAMES.map((n) => [n, inst.exports[n] as Fn])) as Record<KernelName, Fn>;
    kernel = { fn, h32: new Uint32Array(mem.buffer, 0, BLOCK), h16: new Uint16Array(mem.buffer, OFF16, BLOCK) };
  } catch {
    kernel = null; // no WebAssembly SIMD here: callers use the scalar path
  }
  return kernel;
}

/** Whether the kernels could be loaded (callers also check them against the scalar reference). */
export function wire16SimdAvailable(): boolean {
  return load16() !== null;
}

/** Leading elements (a multiple of 8) to run through a kernel; 0 when none. */
function vecCount(n: number, k: Kernel | null): number {
  return k && n >= MIN_SIMD ? n & ~7 : 0;
}

/** dst[i] = encode(src[i]) for the leading multiple of 8 elements; returns that count. src: float32 bits. */
export function simdEncode16(src: Uint32Array, dst: Uint16Array, wire: 'fp16' | 'bf16'): number {
  const k = load16();
  const n = vecCount(Math.min(src.length, dst.length), k);
  if (!k || n === 0) return 0;
  const f = wire === 'fp16' ? k.fn.encF16 : k.fn.encBf16;
  for (let o = 0; o < n; o += BLOCK) {
    const m = Math.min(BLOCK, n - o);
    k.h32.set(src.subarray(o, o + m));
    f(0, OFF16, m * 4);
    dst.set(k.h16.subarray(0, m), o);
  }
  return n;
}

/** dst[i] = decode(src[i]), or dst[i] += decode(src[i]) with `add`, for the leading multiple of 8; returns that count. dst: float32 bits. */
export function simdDecode16(src: Uint16Array, dst: Uint32Array, wire: 'fp16' | 'bf16', add: boolean): number {
  const k = load16();
  const n = vecCount(Math.min(src.length, dst.length), k);
  if (!k || n === 0) return 0;
  const f = add ? (wire === 'fp16' ? k.fn.addF16 : k.fn.addBf16) : wire === 'fp16' ? k.fn.decF16 : k.fn.decBf16;
  for (let o = 0; o < n; o += BLOCK) {
    const m = Math.min(BLOCK, n - o);
    k.h16.set(src.subarray(o, o + m));
    if (add) k.h32.set(dst.subarray(o, o + m));
    f(OFF16, 0, OFF16 + m * 2);
    dst.set(k.h32.subarray(0, m), o);
  }
  return n;
}

/** v[i] = decode(encode(v[i])) in place for the leading multiple of 8; returns that count. v: float32 bits. */
export function simdQuantize16(v: Uint32Array, wire: 'fp16' | 'bf16'): number {
  const k = load16();
  const n = vecCount(v.length, k);
  if (!k || n === 0) return 0;
  const f = wire === 'fp16' ? k.fn.quantF16 : k.fn.quantBf16;
  for (let o = 0; o < n; o += BLOCK) {
    const m = Math.min(BLOCK, n - o);
    k.h32.set(v.subarray(o, o + m));
    f(0, 0, m * 4);
    v.set(k.h32.subarray(0, m), o);
  }
  return n;
}
