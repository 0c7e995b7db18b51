;; WebAssembly SIMD kernels of simd-wire16.ts for the 16-bit wire (fp16 and bf16): float32 -> 16-bit encode,
;; 16-bit -> float32 decode, decode-and-add, and quantize-in-place (float32 rounded to 16-bit precision), 8 elements
;; per loop iteration. V8 does not vectorise the branchy scalar loops of wire-format.ts; these are branch-free, so
;; every special case (subnormal, overflow, Inf, NaN) is computed for all lanes and picked per lane by v128.bitselect.
;; They must agree bit for bit with the scalar reference in wire-format.ts (which checks that once before using them).
;;
;; Compiled into generated/simd-wire16.wasm.ts by `node tools/build-wasm.mjs` (wabt); after
;; editing this file run that script and commit both. test/wasm-sources.test.ts fails while the two disagree;
;; simd-wire16.test.ts checks every kernel against the scalar reference: node tools/run-tests.mjs libs/collective simd-wire16
;;
;; Every kernel is (func (param $s i32) (param $d i32) (param $end i32)): it loops while $s < $end (byte addresses,
;; unsigned), reading the source at $s and writing the destination at $d. The memory layout is shared with
;; simd-wire16.ts (BLOCK, OFF16, CONST_OFF there): a float32 block of 32768 elements at 0, a 16-bit block at 131072,
;; and the constant pool at 196608 (CONST_OFF), which is why the memory has 4 pages.
;;
;; The bit-twiddling sequences (fp16 encode, fp16 decode, fp16 quantize, bf16 encode) are written out at every use:
;; WAT has no macros, and a call per vector is what a kernel like this must not pay. Each is explained once below,
;; at the kernel that first uses it. The bytes are identical to those of the hand-assembler this file replaced, which
;; is why two harmless leftovers of it remain: the bf16 decoders declare scratch locals they do not use, and the
;; quantizers step their unused $d by 0.
;;
;; Constants: every kernel first loads the v128 constants it needs from the pool into locals, outside the loop.
;; Why a pool in memory rather than v128.const: TurboFan sees through a local set from a v128.const and
;; re-materialises the constant inside the loop at every use (three instructions each); a load from memory it keeps
;; in a register. Pool slots (each value repeated in all four i32 lanes):
;;   [0]  0x7fffffff |x| mask                [11] 0x00007fc0 bf16 quiet NaN
;;   [1]  0x30000000 2^-31                   [12] 0x00007fff bf16 rounding bias; fp16 magnitude mask
;;   [2]  0x3f000000 0.5                     [13] 0x7fc00000 float32 quiet NaN
;;   [3]  0xc8000fff -(112 << 23) + 0xfff    [14] 0x38000000 112 << 23 (fp16 -> float32 exponent bias)
;;   [4]  0x00000001 1                       [15] 0x00800000 1 << 23 (a of the smallest fp16 normal)
;;   [5]  0x38800000 2^-14                   [16] 0x0f7fffff just below the a of fp16 Inf
;;   [6]  0x00007c00 fp16 Inf                [17] 0x80000000 float32 sign
;;   [7]  0x7f800000 float32 Inf             [18] 0x0f800000 a of fp16 Inf (a = fp16 bits << 13)
;;   [8]  0x00000200 fp16 quiet-NaN bit      [19] 0x00000fff half a 10-bit ulp, minus 1
;;   [9]  0x47800000 65536.0                 [20] 0xffffe000 keeps 10 mantissa bits
;;   [10] 0x00008000 16-bit sign             [21] 0x477fefff just below 65520.0
;; Pool slot k is at 196608 + 16 k. Local names are per kernel, so the same slot may have a different name where it
;; plays a different role.
(module
  (memory (export "mem") 4)

  ;; encF16(s: float32 block, d: 16-bit block).
  ;;
  ;; fp16 encode: fp16 bits (one per i32 lane) of the float32 bits in $x, as wire-format.ts#f32BitsToF16 computes
  ;; them with branches. With a = |x| bits:
  ;; - fp16 normals (a >= 2^-14): rebias the exponent (-112 << 23) and round the mantissa to 10 bits by an integer
  ;;   add of 0xfff plus the lowest kept bit (ties to even), then shift; a carry out of the mantissa correctly bumps
  ;;   the exponent, up to Inf for 65520 and above.
  ;; - fp16 subnormals (a < 2^-14): add 0.5 as a float. The sum's ulp is 2^-24, exactly the fp16 subnormal step, so
  ;;   the FPU does the round-to-nearest-even for us, and bits(sum) - bits(0.5) is the fp16 subnormal's bits. a is
  ;;   first raised to at least 2^-31 (which still rounds to 0): x86 takes a ~100-cycle assist per float32 subnormal
  ;;   operand, and small gradients often are float32 subnormals.
  ;; - a >= 65536, where the normal path's result would no longer fit 16 bits (from 65520 up it already rounds to
;;   Inf): Inf, plus the quiet bit for NaN.
  ;; - the sign is bit 15 of x >> 16.
  (func (export "encF16") (param $s i32) (param $d i32) (param $end i32)
    (local $x v128) (local $a v128) (local $h v128) (local $y v128)
    (local $abs_mask v128) (local $tiny v128) (local $half v128) (local $rebias_round v128) (local $one v128)
    (local $f16_min_normal v128) (local $f16_inf v128) (local $f32_inf v128) (local $f16_quiet v128)
    (local $f16_overflow v128) (local $sign16 v128)
    (local.set $abs_mask (v128.load offset=196608 (i32.const 0)))        ;; [0]
    (local.set $tiny (v128.load offset=196624 (i32.const 0)))            ;; [1]
    (local.set $half (v128.load offset=196640 (i32.const 0)))            ;; [2]
    (local.set $rebias_round (v128.load offset=196656 (i32.const 0)))    ;; [3]
    (local.set $one (v128.load offset=196672 (i32.const 0)))             ;; [4]
    (local.set $f16_min_normal (v128.load offset=196688 (i32.const 0)))  ;; [5]
    (local.set $f16_inf (v128.load offset=196704 (i32.const 0)))         ;; [6]
    (local.set $f32_inf (v128.load offset=196720 (i32.const 0)))         ;; [7]
    (local.set $f16_quiet (v128.load offset=196736 (i32.const 0)))       ;; [8]
    (local.set $f16_overflow (v128.load offset=196752 (i32.const 0)))    ;; [9]
    (local.set $sign16 (v128.load offset=196768 (i32.const 0)))          ;; [10]
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        ;; The store's address goes on the stack first; each half's encode then sets $x and $a as it goes, which a
        ;; folded (v128.store ...) could not express.
        local.get $d
        (local.set $x (v128.load (local.get $s)))
        ;; fp16 encode of $x (elements 0-3)
        (local.set $a (v128.and (local.get $x) (local.get $abs_mask)))
        (v128.or
          (v128.bitselect
            (v128.bitselect
              (i32x4.sub                                     ;; subnormal (or zero)
                (f32x4.add (i32x4.max_s (local.get $a) (local.get $tiny)) (local.get $half))
                (local.get $half))
              (i32x4.shr_u                                   ;; normal
                (i32x4.add
                  (i32x4.add (local.get $a) (local.get $rebias_round))
                  (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (local.get $one)))
                (i32.const 13))
              (i32x4.lt_s (local.get $a) (local.get $f16_min_normal)))
            (v128.or                                         ;; Inf, or quiet NaN
              (local.get $f16_inf)
              (v128.and (i32x4.gt_s (local.get $a) (local.get $f32_inf)) (local.get $f16_quiet)))
            (i32x4.lt_s (local.get $a) (local.get $f16_overflow)))
          (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $sign16)))
        (local.set $x (v128.load offset=16 (local.get $s)))
        ;; fp16 encode of $x (elements 4-7)
        (local.set $a (v128.and (local.get $x) (local.get $abs_mask)))
        (v128.or
          (v128.bitselect
            (v128.bitselect
              (i32x4.sub
                (f32x4.add (i32x4.max_s (local.get $a) (local.get $tiny)) (local.get $half))
                (local.get $half))
              (i32x4.shr_u
                (i32x4.add
                  (i32x4.add (local.get $a) (local.get $rebias_round))
                  (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (local.get $one)))
                (i32.const 13))
              (i32x4.lt_s (local.get $a) (local.get $f16_min_normal)))
            (v128.or
              (local.get $f16_inf)
              (v128.and (i32x4.gt_s (local.get $a) (local.get $f32_inf)) (local.get $f16_quiet)))
            (i32x4.lt_s (local.get $a) (local.get $f16_overflow)))
          (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $sign16)))
        ;; Lanes are 0..0xffff, so the unsigned saturation of the narrow never bites.
        i16x8.narrow_i32x4_u
        v128.store
        (local.set $s (i32.add (local.get $s) (i32.const 32)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $next))))

  ;; encBf16(s: float32 block, d: 16-bit block).
  ;;
  ;; bf16 encode: the upper half of x rounded to nearest even (add 0x7fff plus the lowest kept bit, then shift; a
  ;; carry bumps the exponent, up to Inf), except NaN (|x| > Inf), which becomes sign | 0x7fc0 so that no NaN
  ;; payload can round into Inf.
  (func (export "encBf16") (param $s i32) (param $d i32) (param $end i32)
    (local $x v128) (local $a v128) (local $h v128) (local $y v128)
    (local $sign16 v128) (local $bf16_qnan v128) (local $one v128) (local $round_bias v128) (local $abs_mask v128)
    (local $f32_inf v128)
    (local.set $sign16 (v128.load offset=196768 (i32.const 0)))      ;; [10]
    (local.set $bf16_qnan (v128.load offset=196784 (i32.const 0)))   ;; [11]
    (local.set $one (v128.load offset=196672 (i32.const 0)))         ;; [4]
    (local.set $round_bias (v128.load offset=196800 (i32.const 0)))  ;; [12]
    (local.set $abs_mask (v128.load offset=196608 (i32.const 0)))    ;; [0]
    (local.set $f32_inf (v128.load offset=196720 (i32.const 0)))     ;; [7]
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        local.get $d
        (local.set $x (v128.load (local.get $s)))
        ;; bf16 encode of $x (elements 0-3)
        (v128.bitselect
          (v128.or (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $sign16)) (local.get $bf16_qnan))
          (i32x4.shr_u
            (i32x4.add
              (i32x4.add (local.get $x) (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $one)))
              (local.get $round_bias))
            (i32.const 16))
          (i32x4.gt_s (v128.and (local.get $x) (local.get $abs_mask)) (local.get $f32_inf)))
        (local.set $x (v128.load offset=16 (local.get $s)))
        ;; bf16 encode of $x (elements 4-7)
        (v128.bitselect
          (v128.or (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $sign16)) (local.get $bf16_qnan))
          (i32x4.shr_u
            (i32x4.add
              (i32x4.add (local.get $x) (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $one)))
              (local.get $round_bias))
            (i32.const 16))
          (i32x4.gt_s (v128.and (local.get $x) (local.get $abs_mask)) (local.get $f32_inf)))
        i16x8.narrow_i32x4_u
        v128.store
        (local.set $s (i32.add (local.get $s) (i32.const 32)))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $next))))

  ;; decF16(s: 16-bit block, d: float32 block).
  ;;
  ;; fp16 decode: float32 bits of the fp16 bits in $h (one per i32 lane, 0..0xffff). With a = |h| << 13 (the fp16
  ;; exponent and mantissa in float32 position):
  ;; - normals: a + (112 << 23) rebiases the exponent.
  ;; - subnormals (a < 1 << 23, fp16 exponent 0): place the magnitude into 2^-14's mantissa by an integer add, then
  ;;   subtract 2^-14 as a float (exact). Neither operand is a float32 subnormal, for the same x86 reason as above.
  ;; - fp16 exponent 31 (a >= 0x0f800000, the a of fp16 Inf): OR in the full float32 exponent; NaN (a above that)
  ;;   becomes the canonical 0x7fc00000, which is what wire-format.ts's decode table holds.
  (func (export "decF16") (param $s i32) (param $d i32) (param $end i32)
    (local $x v128) (local $a v128) (local $h v128) (local $y v128)
    (local $f32_qnan v128) (local $mag16 v128) (local $f16_min_normal v128) (local $rebias v128)
    (local $a_min_normal v128) (local $a_below_inf v128) (local $f32_inf v128) (local $sign32 v128)
    (local $a_inf v128)
    (local.set $f32_qnan (v128.load offset=196816 (i32.const 0)))        ;; [13]
    (local.set $mag16 (v128.load offset=196800 (i32.const 0)))           ;; [12]
    (local.set $f16_min_normal (v128.load offset=196688 (i32.const 0)))  ;; [5]
    (local.set $rebias (v128.load offset=196832 (i32.const 0)))          ;; [14]
    (local.set $a_min_normal (v128.load offset=196848 (i32.const 0)))    ;; [15]
    (local.set $a_below_inf (v128.load offset=196864 (i32.const 0)))     ;; [16]
    (local.set $f32_inf (v128.load offset=196720 (i32.const 0)))         ;; [7]
    (local.set $sign32 (v128.load offset=196880 (i32.const 0)))          ;; [17]
    (local.set $a_inf (v128.load offset=196896 (i32.const 0)))           ;; [18]
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $y (v128.load (local.get $s)))  ;; 8 fp16 values
        local.get $d
        (local.set $h (i32x4.extend_low_i16x8_u (local.get $y)))
        ;; fp16 decode of $h (elements 0-3). The NaN result goes on the stack first: it is the first operand of the
        ;; last bitselect, and $a is set in between.
        local.get $f32_qnan
        (local.set $a (i32x4.shl (v128.and (local.get $h) (local.get $mag16)) (i32.const 13)))
        (v128.or
          (v128.or
            (v128.bitselect
              (f32x4.sub                                     ;; subnormal (or zero)
                (i32x4.add (local.get $a) (local.get $f16_min_normal))
                (local.get $f16_min_normal))
              (i32x4.add (local.get $a) (local.get $rebias))  ;; normal
              (i32x4.lt_s (local.get $a) (local.get $a_min_normal)))
            (v128.and (i32x4.gt_s (local.get $a) (local.get $a_below_inf)) (local.get $f32_inf)))
          (v128.and (i32x4.shl (local.get $h) (i32.const 16)) (local.get $sign32)))
        (i32x4.gt_s (local.get $a) (local.get $a_inf))
        v128.bitselect
        v128.store
        local.get $d
        (local.set $h (i32x4.extend_high_i16x8_u (local.get $y)))
        ;; fp16 decode of $h (elements 4-7)
        local.get $f32_qnan
        (local.set $a (i32x4.shl (v128.and (local.get $h) (local.get $mag16)) (i32.const 13)))
        (v128.or
          (v128.or
            (v128.bitselect
              (f32x4.sub
                (i32x4.add (local.get $a) (local.get $f16_min_normal))
                (local.get $f16_min_normal))
              (i32x4.add (local.get $a) (local.get $rebias))
              (i32x4.lt_s (local.get $a) (local.get $a_min_normal)))
            (v128.and (i32x4.gt_s (local.get $a) (local.get $a_below_inf)) (local.get $f32_inf)))
          (v128.and (i32x4.shl (local.get $h) (i32.const 16)) (local.get $sign32)))
        (i32x4.gt_s (local.get $a) (local.get $a_inf))
        v128.bitselect
        v128.store offset=16
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br $next))))

  ;; decBf16(s: 16-bit block, d: float32 block): bf16 is the upper half of a float32, so decoding is a shift.
  (func (export "decBf16") (param $s i32) (param $d i32) (param $end i32)
    (local $x v128) (local $a v128) (local $h v128) (local $y v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $y (v128.load (local.get $s)))  ;; 8 bf16 values
        (v128.store (local.get $d)
          (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $y)) (i32.const 16)))
        (v128.store offset=16 (local.get $d)
          (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $y)) (i32.const 16)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br $next))))

  ;; addF16(s: 16-bit block, d: float32 block): d += decode(s), the fp16 decode of decF16 followed by f32x4.add.
  (func (export "addF16") (param $s i32) (param $d i32) (param $end i32)
    (local $x v128) (local $a v128) (local $h v128) (local $y v128)
    (local $f32_qnan v128) (local $mag16 v128) (local $f16_min_normal v128) (local $rebias v128)
    (local $a_min_normal v128) (local $a_below_inf v128) (local $f32_inf v128) (local $sign32 v128)
    (local $a_inf v128)
    (local.set $f32_qnan (v128.load offset=196816 (i32.const 0)))        ;; [13]
    (local.set $mag16 (v128.load offset=196800 (i32.const 0)))           ;; [12]
    (local.set $f16_min_normal (v128.load offset=196688 (i32.const 0)))  ;; [5]
    (local.set $rebias (v128.load offset=196832 (i32.const 0)))          ;; [14]
    (local.set $a_min_normal (v128.load offset=196848 (i32.const 0)))    ;; [15]
    (local.set $a_below_inf (v128.load offset=196864 (i32.const 0)))     ;; [16]
    (local.set $f32_inf (v128.load offset=196720 (i32.const 0)))         ;; [7]
    (local.set $sign32 (v128.load offset=196880 (i32.const 0)))          ;; [17]
    (local.set $a_inf (v128.load offset=196896 (i32.const 0)))           ;; [18]
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $y (v128.load (local.get $s)))
        local.get $d                  ;; store address
        (v128.load (local.get $d))    ;; first addend
        (local.set $h (i32x4.extend_low_i16x8_u (local.get $y)))
        ;; fp16 decode of $h (elements 0-3)
        local.get $f32_qnan
        (local.set $a (i32x4.shl (v128.and (local.get $h) (local.get $mag16)) (i32.const 13)))
        (v128.or
          (v128.or
            (v128.bitselect
              (f32x4.sub
                (i32x4.add (local.get $a) (local.get $f16_min_normal))
                (local.get $f16_min_normal))
              (i32x4.add (local.get $a) (local.get $rebias))
              (i32x4.lt_s (local.get $a) (local.get $a_min_normal)))
            (v128.and (i32x4.gt_s (local.get $a) (local.get $a_below_inf)) (local.get $f32_inf)))
          (v128.and (i32x4.shl (local.get $h) (i32.const 16)) (local.get $sign32)))
        (i32x4.gt_s (local.get $a) (local.get $a_inf))
        v128.bitselect
        f32x4.add
        v128.store
        local.get $d
        (v128.load offset=16 (local.get $d))
        (local.set $h (i32x4.extend_high_i16x8_u (local.get $y)))
        ;; fp16 decode of $h (elements 4-7)
        local.get $f32_qnan
        (local.set $a (i32x4.shl (v128.and (local.get $h) (local.get $mag16)) (i32.const 13)))
        (v128.or
          (v128.or
            (v128.bitselect
              (f32x4.sub
                (i32x4.add (local.get $a) (local.get $f16_min_normal))
                (local.get $f16_min_normal))
              (i32x4.add (local.get $a) (local.get $rebias))
              (i32x4.lt_s (local.get $a) (local.get $a_min_normal)))
            (v128.and (i32x4.gt_s (local.get $a) (local.get $a_below_inf)) (local.get $f32_inf)))
          (v128.and (i32x4.shl (local.get $h) (i32.const 16)) (local.get $sign32)))
        (i32x4.gt_s (local.get $a) (local.get $a_inf))
        v128.bitselect
        f32x4.add
        v128.store offset=16
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br $next))))

  ;; addBf16(s: 16-bit block, d: float32 block): d += decode(s).
  (func (export "addBf16") (param $s i32) (param $d i32) (param $end i32)
    (local $x v128) (local $a v128) (local $h v128) (local $y v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        (local.set $y (v128.load (local.get $s)))
        (v128.store (local.get $d)
          (f32x4.add
            (v128.load (local.get $d))
            (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $y)) (i32.const 16))))
        (v128.store offset=16 (local.get $d)
          (f32x4.add
            (v128.load offset=16 (local.get $d))
            (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $y)) (i32.const 16))))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br $next))))

  ;; quantF16(s: float32 block, rounded in place; d unused).
  ;;
  ;; fp16 quantize: $x rounded to fp16 precision, as float32 bits; the same result as fp16 decode(fp16 encode(x))
  ;; in about half the instructions, because it never leaves the float32 format. With a = |x| bits:
  ;; - normals: round the float32 mantissa to 10 bits in place (add 0xfff plus the lowest kept bit, ties to even,
  ;;   then clear the 13 dropped bits); a carry bumps the exponent.
  ;; - fp16 subnormals: + 0.5 - 0.5 as floats rounds to a multiple of 2^-24 (a raised to 2^-31 first, as in the fp16
  ;;   encode).
  ;; - a >= 65520 (what rounds to fp16 Inf, and Inf itself): Inf; NaN: the canonical 0x7fc00000.
  (func (export "quantF16") (param $s i32) (param $d i32) (param $end i32)
    (local $x v128) (local $a v128) (local $h v128) (local $y v128)
    (local $f32_qnan v128) (local $f32_inf v128) (local $abs_mask v128) (local $tiny v128) (local $half v128)
    (local $half_ulp_m1 v128) (local $one v128) (local $keep10 v128) (local $f16_min_normal v128)
    (local $below_65520 v128) (local $sign32 v128)
    (local.set $f32_qnan (v128.load offset=196816 (i32.const 0)))        ;; [13]
    (local.set $f32_inf (v128.load offset=196720 (i32.const 0)))         ;; [7]
    (local.set $abs_mask (v128.load offset=196608 (i32.const 0)))        ;; [0]
    (local.set $tiny (v128.load offset=196624 (i32.const 0)))            ;; [1]
    (local.set $half (v128.load offset=196640 (i32.const 0)))            ;; [2]
    (local.set $half_ulp_m1 (v128.load offset=196912 (i32.const 0)))     ;; [19]
    (local.set $one (v128.load offset=196672 (i32.const 0)))             ;; [4]
    (local.set $keep10 (v128.load offset=196928 (i32.const 0)))          ;; [20]
    (local.set $f16_min_normal (v128.load offset=196688 (i32.const 0)))  ;; [5]
    (local.set $below_65520 (v128.load offset=196944 (i32.const 0)))     ;; [21]
    (local.set $sign32 (v128.load offset=196880 (i32.const 0)))          ;; [17]
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        local.get $s
        (local.set $x (v128.load (local.get $s)))
        ;; fp16 quantize of $x (elements 0-3). The NaN and Inf results go on the stack first: they are the first
        ;; operands of the last two bitselects, and $a is set in between.
        local.get $f32_qnan
        local.get $f32_inf
        (local.set $a (v128.and (local.get $x) (local.get $abs_mask)))
        (v128.bitselect
          (f32x4.sub                                         ;; subnormal (or zero)
            (f32x4.add (i32x4.max_s (local.get $a) (local.get $tiny)) (local.get $half))
            (local.get $half))
          (v128.and                                          ;; normal
            (i32x4.add
              (i32x4.add (local.get $a) (local.get $half_ulp_m1))
              (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (local.get $one)))
            (local.get $keep10))
          (i32x4.lt_s (local.get $a) (local.get $f16_min_normal)))
        (i32x4.gt_s (local.get $a) (local.get $below_65520))
        v128.bitselect                                       ;; Inf
        (v128.and (local.get $x) (local.get $sign32))
        v128.or
        (i32x4.gt_s (local.get $a) (local.get $f32_inf))
        v128.bitselect                                       ;; NaN
        v128.store
        local.get $s
        (local.set $x (v128.load offset=16 (local.get $s)))
        ;; fp16 quantize of $x (elements 4-7)
        local.get $f32_qnan
        local.get $f32_inf
        (local.set $a (v128.and (local.get $x) (local.get $abs_mask)))
        (v128.bitselect
          (f32x4.sub
            (f32x4.add (i32x4.max_s (local.get $a) (local.get $tiny)) (local.get $half))
            (local.get $half))
          (v128.and
            (i32x4.add
              (i32x4.add (local.get $a) (local.get $half_ulp_m1))
              (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (local.get $one)))
            (local.get $keep10))
          (i32x4.lt_s (local.get $a) (local.get $f16_min_normal)))
        (i32x4.gt_s (local.get $a) (local.get $below_65520))
        v128.bitselect
        (v128.and (local.get $x) (local.get $sign32))
        v128.or
        (i32x4.gt_s (local.get $a) (local.get $f32_inf))
        v128.bitselect
        v128.store offset=16
        (local.set $s (i32.add (local.get $s) (i32.const 32)))
        (local.set $d (i32.add (local.get $d) (i32.const 0)))
        (br $next))))

  ;; quantBf16(s: float32 block, rounded in place; d unused): the bf16 encode of encBf16, shifted back up.
  (func (export "quantBf16") (param $s i32) (param $d i32) (param $end i32)
    (local $x v128) (local $a v128) (local $h v128) (local $y v128)
    (local $sign16 v128) (local $bf16_qnan v128) (local $one v128) (local $round_bias v128) (local $abs_mask v128)
    (local $f32_inf v128)
    (local.set $sign16 (v128.load offset=196768 (i32.const 0)))      ;; [10]
    (local.set $bf16_qnan (v128.load offset=196784 (i32.const 0)))   ;; [11]
    (local.set $one (v128.load offset=196672 (i32.const 0)))         ;; [4]
    (local.set $round_bias (v128.load offset=196800 (i32.const 0)))  ;; [12]
    (local.set $abs_mask (v128.load offset=196608 (i32.const 0)))    ;; [0]
    (local.set $f32_inf (v128.load offset=196720 (i32.const 0)))     ;; [7]
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $s) (local.get $end)))
        local.get $s
        (local.set $x (v128.load (local.get $s)))
        ;; bf16 encode of $x (elements 0-3)
        (v128.bitselect
          (v128.or (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $sign16)) (local.get $bf16_qnan))
          (i32x4.shr_u
            (i32x4.add
              (i32x4.add (local.get $x) (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $one)))
              (local.get $round_bias))
            (i32.const 16))
          (i32x4.gt_s (v128.and (local.get $x) (local.get $abs_mask)) (local.get $f32_inf)))
        i32.const 16
        i32x4.shl
        v128.store
        local.get $s
        (local.set $x (v128.load offset=16 (local.get $s)))
        ;; bf16 encode of $x (elements 4-7)
        (v128.bitselect
          (v128.or (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $sign16)) (local.get $bf16_qnan))
          (i32x4.shr_u
            (i32x4.add
              (i32x4.add (local.get $x) (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (local.get $one)))
              (local.get $round_bias))
            (i32.const 16))
          (i32x4.gt_s (v128.and (local.get $x) (local.get $abs_mask)) (local.get $f32_inf)))
        i32.const 16
        i32x4.shl
        v128.store offset=16
        (local.set $s (i32.add (local.get $s) (i32.const 32)))
        (local.set $d (i32.add (local.get $d) (i32.const 0)))
        (br $next))))

  ;; The constant pool, one 16-byte v128 per slot (little-endian i32 lanes), at CONST_OFF = 196608.
  (data (i32.const 196608)
    "\ff\ff\ff\7f\ff\ff\ff\7f\ff\ff\ff\7f\ff\ff\ff\7f"  ;; [0]  0x7fffffff
    "\00\00\00\30\00\00\00\30\00\00\00\30\00\00\00\30"  ;; [1]  0x30000000
    "\00\00\00\3f\00\00\00\3f\00\00\00\3f\00\00\00\3f"  ;; [2]  0x3f000000
    "\ff\0f\00\c8\ff\0f\00\c8\ff\0f\00\c8\ff\0f\00\c8"  ;; [3]  0xc8000fff
    "\01\00\00\00\01\00\00\00\01\00\00\00\01\00\00\00"  ;; [4]  0x00000001
    "\00\00\80\38\00\00\80\38\00\00\80\38\00\00\80\38"  ;; [5]  0x38800000
    "\00\7c\00\00\00\7c\00\00\00\7c\00\00\00\7c\00\00"  ;; [6]  0x00007c00
    "\00\00\80\7f\00\00\80\7f\00\00\80\7f\00\00\80\7f"  ;; [7]  0x7f800000
    "\00\02\00\00\00\02\00\00\00\02\00\00\00\02\00\00"  ;; [8]  0x00000200
    "\00\00\80\47\00\00\80\47\00\00\80\47\00\00\80\47"  ;; [9]  0x47800000
    "\00\80\00\00\00\80\00\00\00\80\00\00\00\80\00\00"  ;; [10] 0x00008000
    "\c0\7f\00\00\c0\7f\00\00\c0\7f\00\00\c0\7f\00\00"  ;; [11] 0x00007fc0
    "\ff\7f\00\00\ff\7f\00\00\ff\7f\00\00\ff\7f\00\00"  ;; [12] 0x00007fff
    "\00\00\c0\7f\00\00\c0\7f\00\00\c0\7f\00\00\c0\7f"  ;; [13] 0x7fc00000
    "\00\00\00\38\00\00\00\38\00\00\00\38\00\00\00\38"  ;; [14] 0x38000000
    "\00\00\80\00\00\00\80\00\00\00\80\00\00\00\80\00"  ;; [15] 0x00800000
    "\ff\ff\7f\0f\ff\ff\7f\0f\ff\ff\7f\0f\ff\ff\7f\0f"  ;; [16] 0x0f7fffff
    "\00\00\00\80\00\00\00\80\00\00\00\80\00\00\00\80"  ;; [17] 0x80000000
    "\00\00\80\0f\00\00\80\0f\00\00\80\0f\00\00\80\0f"  ;; [18] 0x0f800000
    "\ff\0f\00\00\ff\0f\00\00\ff\0f\00\00\ff\0f\00\00"  ;; [19] 0x00000fff
    "\00\e0\ff\ff\00\e0\ff\ff\00\e0\ff\ff\00\e0\ff\ff"  ;; [20] 0xffffe000
    "\ff\ef\7f\47\ff\ef\7f\47\ff\ef\7f\47\ff\ef\7f\47"  ;; [21] 0x477fefff
  ))
