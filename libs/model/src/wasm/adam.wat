;; Adam's update over flat float32 arrays in WebAssembly SIMD, used by libs/model/src/adam-wasm.ts.
;; Compile: node tools/build-wasm.mjs (writes generated/adam.wasm.ts; test/wasm-sources.test.ts checks they agree).
;;
;; Why float64 lanes: every element is computed exactly as the plain JS loop it replaced computed it (float32
;; storage, float64 arithmetic in the same order, m and v rounded to float32 before they are used), so weights stay
;; bit-identical to earlier versions of the trainer and across replicas. Four elements per iteration, as two
;; f64x2 halves; the arrays are padded by the caller to a multiple of 4 with zeros, which update to zeros.
;;
;; Memory (imported, one per optimizer; shared, so that each of @gan/backend's host threads updates a chunk of the
;; elements): w, m, v, g: four float32 arrays of n4 = ⌈n/4⌉·4 elements at the byte offsets the caller passes.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; The first element of g[0..n4) that is NaN or ±Inf, or -1 when all are finite. x·0 is 0 for every finite x
  ;; and NaN otherwise, so the vector pass only sums; the scalar pass finds the index when the sum is not 0.
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

  ;; One Adam update of elements [0, n4):
  ;;   m = f32(b1·m + a1·g);  v = f32(b2·v + (a2·g)·g);  w = f32(w − (stepSize·m) / (sqrt(v) / bc2 + eps))
  ;; with a1 = 1 − b1, a2 = 1 − b2, stepSize = lr / (1 − b1^t), bc2 = sqrt(1 − b2^t), all float64.
  (func (export "step")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32) (param $n4 i32)
    (param $b1 f64) (param $a1 f64) (param $b2 f64) (param $a2 f64)
    (param $stepSize f64) (param $bc2 f64) (param $eps f64)
    (local $i i32) (local $off i32)
    (local $B1 v128) (local $A1 v128) (local $B2 v128) (local $A2 v128)
    (local $S v128) (local $C v128) (local $E v128)
    (local $g4 v128) (local $m4 v128) (local $v4 v128) (local $w4 v128)
    (local $gl v128) (local $gh v128)
    (local $ml v128) (local $mh v128) (local $vl v128) (local $vh v128) (local $wl v128) (local $wh v128)
    (local.set $B1 (f64x2.splat (local.get $b1)))
    (local.set $A1 (f64x2.splat (local.get $a1)))
    (local.set $B2 (f64x2.splat (local.get $b2)))
    (local.set $A2 (f64x2.splat (local.get $a2)))
    (local.set $S (f64x2.splat (local.get $stepSize)))
    (local.set $C (f64x2.splat (local.get $bc2)))
    (local.set $E (f64x2.splat (local.get $eps)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $g4 (v128.load (i32.add (local.get $g) (local.get $off))))
        (local.set $m4 (v128.load (i32.add (local.get $m) (local.get $off))))
        (local.set $v4 (v128.load (i32.add (local.get $v) (local.get $off))))
        (local.set $w4 (v128.load (i32.add (local.get $w) (local.get $off))))
        (local.set $gl (f64x2.promote_low_f32x4 (local.get $g4)))
        (local.set $gh (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g4) (local.get $g4))))

        ;; m: float64 update, rounded to float32 (stored), then read back as the update uses it.
        (local.set $m4
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.mul (local.get $B1) (f64x2.promote_low_f32x4 (local.get $m4)))
                (f64x2.mul (local.get $A1) (local.get $gl))))
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.mul (local.get $B1)
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m4) (local.get $m4))))
                (f64x2.mul (local.get $A1) (local.get $gh))))))
        (v128.store (i32.add (local.get $m) (local.get $off)) (local.get $m4))

        ;; v likewise: b2·v + (a2·g)·g.
        (local.set $v4
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.mul (local.get $B2) (f64x2.promote_low_f32x4 (local.get $v4)))
                (f64x2.mul (f64x2.mul (local.get $A2) (local.get $gl)) (local.get $gl))))
            (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.mul (local.get $B2)
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v4) (local.get $v4))))
                (f64x2.mul (f64x2.mul (local.get $A2) (local.get $gh)) (local.get $gh))))))
        (v128.store (i32.add (local.get $v) (local.get $off)) (local.get $v4))

        ;; w − (stepSize·m) / (sqrt(v) / bc2 + eps), on the float32 m and v just stored.
        (local.set $ml (f64x2.promote_low_f32x4 (local.get $m4)))
        (local.set $mh (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m4) (local.get $m4))))
        (local.set $vl (f64x2.promote_low_f32x4 (local.get $v4)))
        (local.set $vh (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v4) (local.get $v4))))
        (local.set $wl
          (f64x2.sub (f64x2.promote_low_f32x4 (local.get $w4))
            (f64x2.div (f64x2.mul (local.get $S) (local.get $ml))
              (f64x2.add (f64x2.div (f64x2.sqrt (local.get $vl)) (local.get $C)) (local.get $E)))))
        (local.set $wh
          (f64x2.sub
            (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w4) (local.get $w4)))
            (f64x2.div (f64x2.mul (local.get $S) (local.get $mh))
              (f64x2.add (f64x2.div (f64x2.sqrt (local.get $vh)) (local.get $C)) (local.get $E)))))
        (v128.store (i32.add (local.get $w) (local.get $off))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $wl))
            (f32x4.demote_f64x2_zero (local.get $wh))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))
)
