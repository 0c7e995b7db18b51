// 16-bit wire formats for the all-reduce: float32 <-> IEEE fp16 / bfloat16, round to nearest even.
// Pure functions over typed arrays, no allocation per call but views (the fp16 decode table is built once, 256 KiB).
// The scalar functions here are the reference; the array functions run the bulk of long arrays through the
// WebAssembly SIMD kernels of simd-wire16.ts (3-5x faster) once those have been checked to agree bit for bit.
// Tests: node tools/run-tests.mjs libs/collective wire-format

import { simdDecode16, simdEncode16, simdQuantize16, wire16SimdAvailable } from './simd-wire16';

export type WireFormat = 'fp32' | 'fp16' | 'bf16';

/** Bytes per element on the wire. */
export function wireBytes(wire: WireFormat): number {
  return wire === 'fp32' ? 4 : 2;
}

export function assertWire(wire: unknown): asserts wire is WireFormat {
  if (wire !== 'fp32' && wire !== 'fp16' && wire !== 'bf16') {
    throw new Error(`wire must be 'fp32', 'fp16' or 'bf16', got ${JSON.stringify(wire)}`);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** fp16 bits of float32 bits `x` (round to nearest even; overflow to ±Inf; NaN stays NaN). */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1) !== 0)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and yields Inf at the top).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++;
  return sign | h;
}

/** bfloat16 bits of float32 bits `x` (round to nearest even; NaN stays quiet NaN). */
export function f32BitsToBf16(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function buildF16Table(): Float32Array {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = sign * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : sign * Infinity;
    else t[h] = sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
}
let f16Table: Float32Array | undefined;
/** float32 value of every fp16 bit pattern. */
export function f16Table32(): Float32Array {
  return (f16Table ??= buildF16Table());
}

const simdChecked: { fp16?: boolean; bf16?: boolean } = {};
/**
 * Whether to use the SIMD kernels for `wire`: loaded, and bit-identical to the scalar reference on the patterns
 * where rounding can go wrong (tie and boundary mantissas at the exponents that matter, subnormals, Inf, NaN), so
 * a platform that flushed subnormals, say, would fall back to the scalar path. Checked once per format, a few ms.
 */
function simdOn(wire: 'fp16' | 'bf16'): boolean {
  const known = simdChecked[wire];
  if (known !== undefined) return known;
  simdChecked[wire] = false; // the reference calls below must take the scalar path
  if (!wire16SimdAvailable()) return false;
  // float32 exponents: zero/subnormal, fp16's subnormal-to-overflow range (2^-27..2^18), the top (Inf/NaN)
  const exps = [0, 1, 2, 64, 126, 127, 128, 192, 253, 254, 255];
  for (let e = 100; e <= 145; e++) exps.push(e);
  const m32 = [0, 1, 0xfff, 0x1000, 0x1001, 0x2000, 0x3000, 0x7fff, 0x8000, 0x8001, 0x18000, 0x400000, 0x7fe000, 0x7fefff, 0x7ff000, 0x7fffff];
  const bits = new Uint32Array(exps.length * m32.length * 2);
  let i = 0;
  for (const e of exps) for (const m of m32) for (const sign of [0, 0x80000000]) bits[i++] = sign | (e << 23) | m;
  const h16 = new Uint16Array(64 * 8 * 2);
  const m16 = wire === 'fp16' ? [0, 1, 2, 0x155, 0x1ff, 0x200, 0x201, 0x3ff] : [0, 1, 2, 0x3f, 0x40, 0x41, 0x55, 0x7f];
  i = 0;
  for (let e = 0; e < 64; e++) for (const m of m16) for (const sign of [0, 0x8000]) h16[i++] = sign | (wire === 'fp16' ? (e & 31) << 10 : (e * 4 + (e >> 4)) << 7) | m;
  const same = (a: Uint16Array | Uint32Array, b: Uint16Array | Uint32Array) => {
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return false;
    return true;
  };
  const want16 = new Uint16Array(bits.length), got16 = new Uint16Array(bits.length);
  encode16(bits, want16, wire);
  if (simdEncode16(bits, got16, wire) !== bits.length || !same(got16, want16)) return false;
  const want32 = new Uint32Array(h16.length), got32 = new Uint32Array(h16.length);
  decode16(h16, new Float32Array(want32.buffer), wire);
  if (simdDecode16(h16, got32, wire, false) !== h16.length || !same(got32, want32)) return false;
  const wantQ = Uint32Array.from(bits), gotQ = Uint32Array.from(bits);
  quantizeInPlace(new Float32Array(wantQ.buffer), wire);
  if (simdQuantize16(gotQ, wire) !== bits.length || !same(gotQ, wantQ)) return false;
  return (simdChecked[wire] = true);
}

/** Whether the array functions run through the SIMD kernels (for benches, reports and tests). */
export function wire16SimdActive(wire: 'fp16' | 'bf16'): boolean {
  return simdOn(wire);
}

/** Encode src (float32 bits as Uint32Array) into dst (16-bit), n elements. */
export function encode16(src: Uint32Array, dst: Uint16Array, wire: 'fp16' | 'bf16'): void {
  const n = src.length;
  const from = simdOn(wire) ? simdEncode16(src, dst, wire) : 0;
  if (wire === 'fp16') for (let i = from; i < n; i++) dst[i] = f32BitsToF16(src[i]);
  else for (let i = from; i < n; i++) dst[i] = f32BitsToBf16(src[i]);
}

/** dst[i] = decode(src[i]) */
export function decode16(src: Uint16Array, dst: Float32Array, wire: 'fp16' | 'bf16'): void {
  const n = src.length;
  const d = new Uint32Array(dst.buffer, dst.byteOffset, Math.min(n, dst.length));
  const from = simdOn(wire) ? simdDecode16(src, d, wire, false) : 0;
  if (wire === 'fp16') {
    const t = f16Table32();
    for (let i = from; i < n; i++) dst[i] = t[src[i]];
  } else {
    for (let i = from; i < n; i++) d[i] = src[i] << 16;
  }
}

/** dst[i] += decode(src[i]) (float32 add, as every rank would do it) */
export function decodeAdd16(src: Uint16Array, dst: Float32Array, wire: 'fp16' | 'bf16'): void {
  const n = src.length;
  const from = simdOn(wire) ? simdDecode16(src, new Uint32Array(dst.buffer, dst.byteOffset, Math.min(n, dst.length)), wire, true) : 0;
  if (wire === 'fp16') {
    const t = f16Table32();
    for (let i = from; i < n; i++) dst[i] += t[src[i]];
  } else {
    for (let i = from; i < n; i++) {
      u32[0] = src[i] << 16;
      dst[i] += f32[0];
    }
  }
}

/** Round every element of v to the wire precision in place (so the owner of a sum holds what the others receive). */
export function quantizeInPlace(v: Float32Array, wire: WireFormat): void {
  if (wire === 'fp32') return;
  const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
  const n = v.length;
  const from = simdOn(wire) ? simdQuantize16(bits, wire) : 0;
  if (wire === 'fp16') {
    const t = f16Table32();
    for (let i = from; i < n; i++) v[i] = t[f32BitsToF16(bits[i])];
  } else {
    for (let i = from; i < n; i++) bits[i] = f32BitsToBf16(bits[i]) << 16;
  }
}

/** For tests: round one number through a wire format. */
export function roundTrip(x: number, wire: WireFormat): number {
  f32[0] = x;
  if (wire === 'fp32') return f32[0];
  if (wire === 'fp16') return f16Table32()[f32BitsToF16(u32[0])];
  u32[0] = f32BitsToBf16(u32[0]) << 16;
  return f32[0];
}
