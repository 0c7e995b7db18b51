;; Column sums of a float32 [outer, inner] array into float64 accumulators in WebAssembly SIMD, used by
;; libs/backend/src/wasm-sum-leading.ts for the Sum/Mean kernels' leading-axes case (BatchNorm statistics and
;; their gradients, bias gradients).
;; Compile: node tools/build-wasm.mjs (writes generated/sum-leading.wasm.ts; test/wasm-sources.test.ts checks they agree).
;;
;; Why this order: acc[c] += (x[r,c] + x[r+1,c]) + (x[r+2,c] + x[r+3,c]) in float64 for each group of four rows,
;; then acc[c] += x[r,c] for the rows left over, is the plain JS loop it speeds up, operation for operation, so the
;; sums are the same bits whichever of the two ran. Four columns per iteration, as two f64x2 halves.
;;
;; Memory (imported): x at byte offset $x (outer·inner float32), acc at $acc (inner float64, summed into);
;; inner is a multiple of 4, both offsets multiples of 16.
(module
  (import "env" "memory" (memory 1))

  (func (export "sumLeading") (param $x i32) (param $outer i32) (param $inner i32) (param $acc i32)
    (local $row i32) (local $rb2 i32) (local $rb3 i32) (local $r i32) (local $p i32) (local $a i32) (local $end i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local.set $row (i32.shl (local.get $inner) (i32.const 2)))
    (local.set $rb2 (i32.shl (local.get $row) (i32.const 1)))
    (local.set $rb3 (i32.add (local.get $rb2) (local.get $row)))

    ;; Four rows at a time.
    (block $groups_done
      (loop $groups
        (br_if $groups_done (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $outer)))
        (local.set $p (local.get $x))
        (local.set $a (local.get $acc))
        (local.set $end (i32.add (local.get $x) (local.get $row)))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v0 (v128.load (local.get $p)))
            (local.set $v1 (v128.load (i32.add (local.get $p) (local.get $row))))
            (local.set $v2 (v128.load (i32.add (local.get $p) (local.get $rb2))))
            (local.set $v3 (v128.load (i32.add (local.get $p) (local.get $rb3))))
            (v128.store (local.get $a)
              (f64x2.add (v128.load (local.get $a))
                (f64x2.add
                  (f64x2.add (f64x2.promote_low_f32x4 (local.get $v0)) (f64x2.promote_low_f32x4 (local.get $v1)))
                  (f64x2.add (f64x2.promote_low_f32x4 (local.get $v2)) (f64x2.promote_low_f32x4 (local.get $v3))))))
            ;; The upper two lanes, moved down for promote_low.
            (local.set $v0 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v0) (local.get $v0)))
            (local.set $v1 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v1) (local.get $v1)))
            (local.set $v2 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v2) (local.get $v2)))
            (local.set $v3 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v3) (local.get $v3)))
            (v128.store offset=16 (local.get $a)
              (f64x2.add (v128.load offset=16 (local.get $a))
                (f64x2.add
                  (f64x2.add (f64x2.promote_low_f32x4 (local.get $v0)) (f64x2.promote_low_f32x4 (local.get $v1)))
                  (f64x2.add (f64x2.promote_low_f32x4 (local.get $v2)) (f64x2.promote_low_f32x4 (local.get $v3))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (br $cols)))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $row) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $groups)))

    ;; The rows left over, one at a time.
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $outer)))
        (local.set $p (local.get $x))
        (local.set $a (local.get $acc))
        (local.set $end (i32.add (local.get $x) (local.get $row)))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v0 (v128.load (local.get $p)))
            (v128.store (local.get $a)
              (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v0))))
            (local.set $v0 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v0) (local.get $v0)))
            (v128.store offset=16 (local.get $a)
              (f64x2.add (v128.load offset=16 (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v0))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (br $cols)))
        (local.set $x (i32.add (local.get $x) (local.get $row)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))))
