;; RMSprop's update over flat float32 arrays in WebAssembly SIMD, used by libs/model/src/rmsprop.ts.
;; Compile: node tools/build-wasm.mjs (writes generated/rmsprop.wasm.ts; test/wasm-sources.test.ts checks they agree).
;;
;; As adam.wat, and for the same reason (replicas bit-identical whatever the backend, and one fixed rounding order):
;; float32 storage, float64 arithmetic, the square average rounded to float32 before the update uses it. Four
;; elements per iteration as two f64x2 halves; the caller pads the arrays to a multiple of 4 with zeros, which
;; update to zeros.
;;
;; Memory (imported, one per optimizer; shared, as adam.wat's): w, s (the square average), g: three float32 arrays
;; of n4 = ⌈n/4⌉·4 elements at the byte offsets the caller passes.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; The first element of g[0..n4) that is NaN or ±Inf, or -1 when all are finite (as adam.wat's).
  (func (export "firstNonFinite") (param $g i32) (param $n4 i32) (result i32)
    (local $i i32) (local $acc v128) (local $zero v128)
    (local.set $zero (f32x4.splat (f32.const 0)))
    (local.set $acc (local.get $zero))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $acc
          (f32x4.add (local.get $acc)
            (f32x4.mul (v128.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2))))
                       (local.get $zero))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vec)))
    (if (i32.eqz (v128.any_true (f32x4.ne (local.get $acc) (local.get $zero))))
      (then (return (i32.const -1))))
    (local.set $i (i32.const 0))
    (block $found
      (loop $scan
        (br_if $found (i32.ge_u (local.get $i) (local.get $n4)))
        (br_if $found
          (f32.ne
            (f32.mul (f32.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2)))) (f32.const 0))
            (f32.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (local.get $i))

  ;; One RMSprop update of elements [0, n4) (torch.optim.RMSprop, no momentum, not centered):
  ;;   s = f32(alpha·s + (a·g)·g);  w = f32(w − (lr·g) / (sqrt(s) + eps))
  ;; with a = 1 − alpha, all float64.
  (func (export "step")
    (param $w i32) (param $s i32) (param $g i32) (param $n4 i32)
    (param $alpha f64) (param $a f64) (param $lr f64) (param $eps f64)
    (local $i i32) (local $off i32)
    (local $AL v128) (local $A v128) (local $LR v128) (local $E v128)
    (local $g4 v128) (local $s4 v128) (local $w4 v128)
    (local $gl v128) (local $gh v128) (local $wl v128) (local $wh v128)
    (local.set $AL (f64x2.splat (local.get $alpha)))
    (local.set $A (f64x2.splat (local.get $a)))
    (local.set $LR (f64x2.splat (local.get $lr)))
    (local.set $E (f64x2.splat (local.get $eps)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $g4 (v128.load (i32.add (local.get $g) (local.get $off))))
        (local.set $s4 (v128.load (i32.add (local.get $s) (local.get $off))))
        (local.set $w4 (v128.load (i32.add (local.get $w) (local.get $off))))
        (local.set $gl (f64x2.promote_low_f32x4 (local.get $g4)))
        (local.set $gh (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g4) (local.get $g4))))

        ;; s: float64 update, rounded to float32 (stored), then read back as the update uses it.
        (local.set $s4
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.mul (local.get $AL) (f64x2.promote_low_f32x4 (local.get $s4)))
                (f64x2.mul (f64x2.mul (local.get $A) (local.get $gl)) (local.get $gl))))
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.mul (local.get $AL)
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s4) (local.get $s4))))
                (f64x2.mul (f64x2.mul (local.get $A) (local.get $gh)) (local.get $gh))))))
        (v128.store (i32.add (local.get $s) (local.get $off)) (local.get $s4))

        ;; w − (lr·g) / (sqrt(s) + eps), on the float32 s just stored.
        (local.set $wl
          (f64x2.sub (f64x2.promote_low_f32x4 (local.get $w4))
            (f64x2.div (f64x2.mul (local.get $LR) (local.get $gl))
              (f64x2.add (f64x2.sqrt (f64x2.promote_low_f32x4 (local.get $s4))) (local.get $E)))))
        (local.set $wh
          (f64x2.sub
            (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w4) (local.get $w4)))
            (f64x2.div (f64x2.mul (local.get $LR) (local.get $gh))
              (f64x2.add
                (f64x2.sqrt
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s4) (local.get $s4))))
                (local.get $E)))))
        (v128.store (i32.add (local.get $w) (local.get $off))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $wl))
            (f32x4.demote_f64x2_zero (local.get $wh))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))
)
