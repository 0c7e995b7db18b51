// WebAssembly SIMD kernels for the 16-bit wire (fp16 and bf16): float32 -> 16-bit encode, 16-bit -> float32
// decode, decode-and-add, and quantize-in-place, 8 elements per loop iteration, hand-assembled (no toolchain) like
// simd-add.ts. V8 does not vectorise the branchy scalar loops of wire-format.ts (1.5-3 ns per element on the 2-vCPU
// dev box); these take 0.2-0.8 ns per element including the copies. Every function handles the leading multiple of 8 elements and returns how many it did (0 when
// WebAssembly SIMD is unavailable); wire-format.ts finishes the tail with its scalar reference and checks once
// that the kernels agree with that reference bit for bit before using them.
// Operands are copied through the module's memory in blocks of BLOCK elements (L2-sized, so the copies stay cheap).
// Tested by simd-wire16.test.ts: node tools/run-tests.mjs libs/collective simd-wire16
import { name, section, uleb } from './wasm-bytes';

/** Elements per block; the memory holds one float32 block at 0, one 16-bit block at OFF16, then the constants. */
const BLOCK = 32768;
const OFF16 = BLOCK * 4;
const CONST_OFF = BLOCK * 6;
const PAGES = CONST_OFF / 65536 + 1;
/** Below this many elements the per-call overhead costs more than the kernel saves. */
const MIN_SIMD = 64;

// --- a tiny assembler: byte arrays for the instructions used below (LEB128, sections: wasm-bytes.ts) ---
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const i32 = (x: number) => [0x41, ...sleb(x)];
const simd = (code: number) => [0xfd, ...uleb(code)];
/** The 16 bytes of a v128 with x (u32 bits) in every i32 lane. */
const lanes = (x: number) => Array.from({ length: 16 }, (_, k) => (x >>> ((k % 4) * 8)) & 0xff);
const load = (offset: number) => [0xfd, 0x00, 0x04, ...uleb(offset)];
const store = (offset: number) => [0xfd, 0x0b, 0x04, ...uleb(offset)];
const AND = simd(0x4e), OR = simd(0x50), BITSELECT = simd(0x52); // bitselect(a, b, c) = c ? a : b, per bit
const ADD = simd(0xae), SUB = simd(0xb1), SHL = simd(0xab), SHR_U = simd(0xad); // i32x4
const GT_S = simd(0x3b), LT_S = simd(0x39); // i32x4, signed (operands are below 2^31 where it matters)
const FADD = simd(0xe4), FSUB = simd(0xe5); // f32x4
const MAX_S = simd(0xb8); // i32x4.max_s
const NARROW_U = simd(0x86); // i16x8.narrow_i32x4_u: lanes are 0..0xffff, so the saturation never bites
const EXT_LO = simd(0xa9), EXT_HI = simd(0xaa); // i32x4.extend_{low,high}_i16x8_u

// Locals: params s=0, d=1, end=2; v128 scratch X=3, A=4, H=5, Y=6.
const S = 0, D = 1, END = 2, X = 3, A = 4, H = 5, Y = 6;

/**
 * fp16 bits (one per i32 lane) of the float32 bits in X. Branch-free form of wire-format.ts#f32BitsToF16:
 * normals round by integer add (ties to even via the mantissa's low kept bit), fp16 subnormals by a float add of 0.5
 * whose ulp is exactly the fp16 subnormal step (so the FPU rounds to nearest even for us), Inf/NaN by select.
 */
const encF16 = (k: Konst) => [
  ...get(X), ...k(0x7fffffff), ...AND, ...set(A), // a = |x| bits
  // subnormal result: bits(f32(a) + 0.5) - bits(0.5); a is raised to at least 2^-31 (still rounds to 0) so that no
  // float32 subnormal reaches the FPU (a ~100-cycle assist each on x86)
  ...get(A), ...k(0x30000000), ...MAX_S, ...k(0x3f000000), ...FADD, ...k(0x3f000000), ...SUB,
  // normal result: (a - (112 << 23) + 0xfff + ((a >> 13) & 1)) >> 13; a carry into the exponent is correct
  ...get(A), ...k(0xc8000fff), ...ADD, ...get(A), ...i32(13), ...SHR_U, ...k(1), ...AND, ...ADD, ...i32(13), ...SHR_U,
  ...get(A), ...k(0x38800000), ...LT_S, ...BITSELECT, // a < 2^-14: subnormal (or zero)
  // a >= 65536 (after rounding, anything from 65520 up is already Inf above): Inf, or quiet NaN for NaN
  ...k(0x7c00), ...get(A), ...k(0x7f800000), ...GT_S, ...k(0x200), ...AND, ...OR,
  ...get(A), ...k(0x47800000), ...LT_S, ...BITSELECT,
  ...get(X), ...i32(16), ...SHR_U, ...k(0x8000), ...AND, ...OR, // sign
];

/**
 * float32 bits of the fp16 bits in H (one per i32 lane, 0..0xffff). Normals: rebias the exponent; subnormals: the
 * magnitude placed into 2^-14's mantissa, minus 2^-14 (exact); Inf/NaN: full exponent; every NaN becomes the
 * canonical 0x7fc00000 (what wire-format.ts's decode table holds). No lane ever feeds a float32 subnormal to the
 * FPU: x86 takes a ~100-cycle assist per subnormal operand, and small gradients are fp16 subnormals all the time.
 */
const decF16 = (k: Konst) => [
  ...k(0x7fc00000),
  ...get(H), ...k(0x7fff), ...AND, ...i32(13), ...SHL, ...set(A), // a = |h| << 13
  ...get(A), ...k(0x38800000), ...ADD, ...k(0x38800000), ...FSUB, // subnormal value
  ...get(A), ...k(0x38000000), ...ADD, // normal value (exponent + 112)
  ...get(A), ...k(0x00800000), ...LT_S, ...BITSELECT,
  ...get(A), ...k(0x0f7fffff), ...GT_S, ...k(0x7f800000), ...AND, ...OR, // Inf/NaN exponent
  ...get(H), ...i32(16), ...SHL, ...k(0x80000000), ...AND, ...OR,
  ...get(A), ...k(0x0f800000), ...GT_S, ...BITSELECT,
];

/**
 * X rounded to fp16 precision, as float32 bits: the same result as decF16(encF16(X)) in about half the
 * instructions. Normals round the float32 mantissa to 10 bits in place (ties to even, a carry bumps the exponent);
 * fp16 subnormals round to a multiple of 2^-24 via + 0.5 - 0.5; |x| >= 65520 becomes Inf; NaN the canonical NaN.
 */
const quantF16 = (k: Konst) => [
  ...k(0x7fc00000),
  ...k(0x7f800000),
  ...get(X), ...k(0x7fffffff), ...AND, ...set(A),
  ...get(A), ...k(0x30000000), ...MAX_S, ...k(0x3f000000), ...FADD, ...k(0x3f000000), ...FSUB, // subnormal
  ...get(A), ...k(0xfff), ...ADD, ...get(A), ...i32(13), ...SHR_U, ...k(1), ...AND, ...ADD, ...k(0xffffe000), ...AND, // normal
  ...get(A), ...k(0x38800000), ...LT_S, ...BITSELECT,
  ...get(A), ...k(0x477fefff), ...GT_S, ...BITSELECT, // Inf (and the Inf/NaN inputs)
  ...get(X), ...k(0x80000000), ...AND, ...OR,
  ...get(A), ...k(0x7f800000), ...GT_S, ...BITSELECT, // NaN
];

/** bf16 bits of the float32 bits in X: round to nearest even on the upper half; NaN -> sign | 0x7fc0. */
const encBf16 = (k: Konst) => [
  ...get(X), ...i32(16), ...SHR_U, ...k(0x8000), ...AND, ...k(0x7fc0), ...OR,
  ...get(X), ...get(X), ...i32(16), ...SHR_U, ...k(1), ...AND, ...ADD, ...k(0x7fff), ...ADD, ...i32(16), ...SHR_U,
  ...get(X), ...k(0x7fffffff), ...AND, ...k(0x7f800000), ...GT_S, ...BITSELECT,
];

/**
 * Hands out a v128 local holding x in every i32 lane. The locals are loaded from a constant pool in memory before
 * the loop: TurboFan would re-materialise a v128.const inside the loop at three instructions per use.
 */
type Konst = (x: number) => number[];

/** A function (s, d, end) looping `body` while s < end, then s += ds, d += dd. `pool`: the shared constants. */
function loopFn(pool: number[], body: (k: Konst) => number[], ds: number, dd: number): number[] {
  const consts: number[] = [];
  const k: Konst = (x) => {
    const i = consts.indexOf(x >>> 0);
    return get(Y + 1 + (i >= 0 ? i : consts.push(x >>> 0) - 1));
  };
  const loop = body(k);
  const slot = (x: number) => (pool.includes(x) ? pool.indexOf(x) : pool.push(x) - 1);
  const code = [
    0x01, 4 + consts.length, 0x7b, // v128 locals: X, A, H, Y, then the constants
    ...consts.flatMap((x, i) => [...i32(0), ...load(CONST_OFF + 16 * slot(x)), ...set(Y + 1 + i)]),
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...get(S), ...get(END), 0x4f, 0x0d, 0x01, // br_if 1 (s >= end)
    ...loop,
    ...get(S), ...i32(ds), 0x6a, ...set(S),
    ...get(D), ...i32(dd), 0x6a, ...set(D),
    0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br 0, end loop, end block, end func
  ];
  return [...uleb(code.length), ...code];
}

const NAMES = ['encF16', 'encBf16', 'decF16', 'decBf16', 'addF16', 'addBf16', 'quantF16', 'quantBf16'] as const;
type KernelName = (typeof NAMES)[number];

/** Function bodies by name; fills `pool` with the constants they load. */
function kernels(pool: number[]): Record<KernelName, number[]> {
  const fn = (body: (k: Konst) => number[], ds: number, dd: number) => loopFn(pool, body, ds, dd);
  return {
    // s: float32 block, d: 16-bit block
    encF16: fn((k) => [...get(D), ...get(S), ...load(0), ...set(X), ...encF16(k), ...get(S), ...load(16), ...set(X), ...encF16(k), ...NARROW_U, ...store(0)], 32, 16),
    encBf16: fn((k) => [...get(D), ...get(S), ...load(0), ...set(X), ...encBf16(k), ...get(S), ...load(16), ...set(X), ...encBf16(k), ...NARROW_U, ...store(0)], 32, 16),
    // s: 16-bit block, d: float32 block
    decF16: fn((k) => [
      ...get(S), ...load(0), ...set(Y),
      ...get(D), ...get(Y), ...EXT_LO, ...set(H), ...decF16(k), ...store(0),
      ...get(D), ...get(Y), ...EXT_HI, ...set(H), ...decF16(k), ...store(16),
    ], 16, 32),
    decBf16: fn(() => [
      ...get(S), ...load(0), ...set(Y),
      ...get(D), ...get(Y), ...EXT_LO, ...i32(16), ...SHL, ...store(0),
      ...get(D), ...get(Y), ...EXT_HI, ...i32(16), ...SHL, ...store(16),
    ], 16, 32),
    addF16: fn((k) => [
      ...get(S), ...load(0), ...set(Y),
      ...get(D), ...get(D), ...load(0), ...get(Y), ...EXT_LO, ...set(H), ...decF16(k), ...FADD, ...store(0),
      ...get(D), ...get(D), ...load(16), ...get(Y), ...EXT_HI, ...set(H), ...decF16(k), ...FADD, ...store(16),
    ], 16, 32),
    addBf16: fn(() => [
      ...get(S), ...load(0), ...set(Y),
      ...get(D), ...get(D), ...load(0), ...get(Y), ...EXT_LO, ...i32(16), ...SHL, ...FADD, ...store(0),
      ...get(D), ...get(D), ...load(16), ...get(Y), ...EXT_HI, ...i32(16), ...SHL, ...FADD, ...store(16),
    ], 16, 32),
    // s: float32 block, rounded in place (d unused)
    quantF16: fn((k) => [
      ...get(S), ...get(S), ...load(0), ...set(X), ...quantF16(k), ...store(0),
      ...get(S), ...get(S), ...load(16), ...set(X), ...quantF16(k), ...store(16),
    ], 32, 0),
    quantBf16: fn((k) => [
      ...get(S), ...get(S), ...load(0), ...set(X), ...encBf16(k), ...i32(16), ...SHL, ...store(0),
      ...get(S), ...get(S), ...load(16), ...set(X), ...encBf16(k), ...i32(16), ...SHL, ...store(16),
    ], 32, 0),
  };
}

/** (module (memory (export "mem") PAGES) (func (export name) (param i32 i32 i32)) ... (data (CONST_OFF) pool)) */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const pool: number[] = [];
  const bodies = kernels(pool);
  const poolBytes = pool.flatMap(lanes);
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00]),
    ...section(3, [NAMES.length, ...NAMES.map(() => 0x00)]),
    ...section(5, [0x01, 0x00, PAGES]),
    ...section(7, [NAMES.length + 1, ...name('mem'), 0x02, 0x00, ...NAMES.flatMap((n, i) => [...name(n), 0x00, i])]),
    ...section(10, [NAMES.length, ...NAMES.flatMap((n) => bodies[n])]),
    ...section(11, [0x01, 0x00, ...i32(CONST_OFF), 0x0b, ...uleb(poolBytes.length), ...poolBytes]),
  ]);
}

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
    const inst = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()));
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
