;; Single-threaded float32 matrix products in WebAssembly SIMD, used by libs/backend/src/wasm-gemm.ts for the wasm
;; BatchMatMul kernel: every linear layer's forward pass and both halves of its backward pass.
;; Compile: node tools/build-wasm.mjs (writes generated/gemm.wasm.ts; test/wasm-sources.test.ts checks they agree).
;;
;; Why the order of operations: each output is acc = 0, then acc = acc + a[i,k]·b[k,j] for k = 0, 1, …, K−1, a
;; rounded multiply and a rounded add per step (WebAssembly SIMD has no fused multiply-add). That is the order
;; XNNPACK's f32 GEMM (tfjs-backend-wasm's BatchMatMul) adds in, so the two give the same bits and a run's results do
;; not depend on which of them computed a product (the tests compare bits).
;;
;; Why these kernels: XNNPACK packs the right operand before every product, and every operand is new in a training
;; step (weights change after each update, gradients are new), and tfjs hands it transposed operands only after a
;; separate transpose. Here `gemm` reads A through two strides (so Aᵀ costs nothing) and B's rows in place, four
;; rows by eight columns of C per pass, and `gemmColumns` serves products with fewer than eight output columns
;; (a layer with one or two outputs), eight rows of C per vector pair, from A given transposed.
;;
;; Memory (imported): every pointer is a byte offset into it; matrices are row-major float32.
(module
  (import "env" "memory" (memory 1))

  ;; dst [cols, rows] = transpose of src [rows, cols]: 4×4 blocks in registers, the ragged edges one value at a time.
  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $rows4 i32) (local $cols4 i32) (local $srow i32) (local $drow i32)
    (local $p i32) (local $q i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $srow (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $drow (i32.shl (local.get $rows) (i32.const 2)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows4)))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $cols4)))
            ;; p: src[r, c]; q: dst[c, r]
            (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2))))
            (local.set $q (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
            (local.set $v0 (v128.load (local.get $p)))
            (local.set $v1 (v128.load (i32.add (local.get $p) (local.get $srow))))
            (local.set $v2 (v128.load (i32.add (local.get $p) (i32.shl (local.get $srow) (i32.const 1)))))
            (local.set $v3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $srow) (i32.const 3)))))
            ;; t0 = a0 b0 a1 b1, t1 = a2 b2 a3 b3, t2 = c0 d0 c1 d1, t3 = c2 d2 c3 d3
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
            (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $q) (local.get $drow))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $q) (i32.shl (local.get $drow) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $drow) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cloop)))
        ;; Columns past the last whole block, for these four rows.
        (block $edone
          (loop $eloop
            (br_if $edone (i32.ge_u (local.get $c) (local.get $cols)))
            (call $column (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols) (local.get $r) (i32.add (local.get $r) (i32.const 4)) (local.get $c))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $eloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rloop)))
    ;; Rows past the last whole block, every column.
    (local.set $c (i32.const 0))
    (block $ldone
      (loop $lloop
        (br_if $ldone (i32.ge_u (local.get $c) (local.get $cols)))
        (call $column (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols) (local.get $rows4) (local.get $rows) (local.get $c))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $lloop))))

  ;; dst[c, r] = src[r, c] for r in [r0, r1): one column of src, value by value.
  (func $column (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $r0 i32) (param $r1 i32) (param $c i32)
    (local $r i32)
    (local.set $r (local.get $r0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $r) (local.get $r1)))
        (f32.store
          (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2)))
          (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $next))))

  ;; C [m, n] (row stride ldc) = A·B for A(i, k) at a + 4·(i·sar + k·sak) and B [k, n] with row stride ldb.
  ;; Strides are in values. A as stored [m, k] is sar = k, sak = 1; Aᵀ of a stored [k, m] is sar = 1, sak = m.
  ;; $w: scratch for k·(n rounded down to a multiple of 8) values, where B's eight-column panels are laid out
  ;; contiguously ([k, 8] each), as XNNPACK packs them: a tile's B rows are then adjacent in memory, not a row of B apart.
  (func (export "gemm") (param $a i32) (param $sar i32) (param $sak i32) (param $b i32) (param $ldb i32) (param $w i32)
    (param $c i32) (param $ldc i32) (param $m i32) (param $k i32) (param $n i32)
    (local $i i32) (local $j i32) (local $m4 i32) (local $n8 i32) (local $n4 i32) (local $panel i32)
    (local.set $sar (i32.shl (local.get $sar) (i32.const 2)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
    (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    ;; Eight columns of C at a time: B's panel [k, 8] stays in cache while A's rows stream past it.
    (call $pack8 (local.get $b) (local.get $ldb) (local.get $w) (local.get $k) (local.get $n8))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $n8)))
        ;; panel j/8 of the packed B: k rows of 32 bytes
        (local.set $panel (i32.add (local.get $w) (i32.mul (i32.shl (local.get $j) (i32.const 2)) (local.get $k))))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $m4)))
            (call $tile4x8
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sar))) (local.get $sar) (local.get $sak)
              (local.get $panel) (i32.const 32)
              (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2)))) (local.get $ldc)
              (local.get $k))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iloop)))
        (block $rdone
          (loop $rloop
            (br_if $rdone (i32.ge_u (local.get $i) (local.get $m)))
            (call $tile1x8
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sar))) (local.get $sak)
              (local.get $panel) (i32.const 32)
              (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2))))
              (local.get $k))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rloop)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jloop)))
    ;; Four more columns, then single ones, row by row.
    (if (i32.lt_u (local.get $j) (local.get $n4))
      (then
        (local.set $i (i32.const 0))
        (block $done4
          (loop $loop4
            (br_if $done4 (i32.ge_u (local.get $i) (local.get $m)))
            (call $tile1x4
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sar))) (local.get $sak)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2))))
              (local.get $k))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $loop4)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))))
    (block $jdone1
      (loop $jloop1
        (br_if $jdone1 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $done1
          (loop $loop1
            (br_if $done1 (i32.ge_u (local.get $i) (local.get $m)))
            (call $tile1x1
              (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sar))) (local.get $sak)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
              (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2))))
              (local.get $k))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $loop1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop1))))

  ;; w ← B's first n8 columns as panels of eight: panel p holds B[kk, 8p .. 8p+8) for kk = 0 … k−1, 32 bytes a row.
  ;; ldb is in bytes.
  (func $pack8 (param $b i32) (param $ldb i32) (param $w i32) (param $k i32) (param $n8 i32)
    (local $j i32) (local $kk i32) (local $p i32)
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $n8)))
        (local.set $p (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $kk (i32.const 0))
        (block $kdone
          (loop $kloop
            (br_if $kdone (i32.ge_u (local.get $kk) (local.get $k)))
            (v128.store (local.get $w) (v128.load (local.get $p)))
            (v128.store offset=16 (local.get $w) (v128.load offset=16 (local.get $p)))
            (local.set $w (i32.add (local.get $w) (i32.const 32)))
            (local.set $p (i32.add (local.get $p) (local.get $ldb)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
            (br $kloop)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $jloop))))

  ;; C[0..4, 0..8] = Σ_k A(r, k)·B[k, 0..8]; byte strides. Eight accumulators, two B vectors and a splat of A.
  (func $tile4x8 (param $pa i32) (param $sar i32) (param $sak i32) (param $pb i32) (param $ldb i32)
    (param $pc i32) (param $ldc i32) (param $k i32)
    (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $kk i32)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $p1 (i32.add (local.get $pa) (local.get $sar)))
    (local.set $p2 (i32.add (local.get $p1) (local.get $sar)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $sar)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $kk) (local.get $k)))
        (local.set $b0 (v128.load (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $x (v128.load32_splat (local.get $pa)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $p1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $p2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $p3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
        (local.set $p1 (i32.add (local.get $p1) (local.get $sak)))
        (local.set $p2 (i32.add (local.get $p2) (local.get $sak)))
        (local.set $p3 (i32.add (local.get $p3) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
        (br $next)))
    (v128.store (local.get $pc) (local.get $c00))
    (v128.store offset=16 (local.get $pc) (local.get $c01))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (local.get $c10))
    (v128.store offset=16 (local.get $pc) (local.get $c11))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (local.get $c20))
    (v128.store offset=16 (local.get $pc) (local.get $c21))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store (local.get $pc) (local.get $c30))
    (v128.store offset=16 (local.get $pc) (local.get $c31)))

  ;; One row of C, eight columns.
  (func $tile1x8 (param $pa i32) (param $sak i32) (param $pb i32) (param $ldb i32) (param $pc i32) (param $k i32)
    (local $kk i32) (local $x v128) (local $c0 v128) (local $c1 v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $kk) (local.get $k)))
        (local.set $x (v128.load32_splat (local.get $pa)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x) (v128.load (local.get $pb)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $pb)))))
        (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
        (br $next)))
    (v128.store (local.get $pc) (local.get $c0))
    (v128.store offset=16 (local.get $pc) (local.get $c1)))

  ;; One row of C, four columns.
  (func $tile1x4 (param $pa i32) (param $sak i32) (param $pb i32) (param $ldb i32) (param $pc i32) (param $k i32)
    (local $kk i32) (local $c0 v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $kk) (local.get $k)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load32_splat (local.get $pa)) (v128.load (local.get $pb)))))
        (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
        (br $next)))
    (v128.store (local.get $pc) (local.get $c0)))

  ;; One value of C.
  (func $tile1x1 (param $pa i32) (param $sak i32) (param $pb i32) (param $ldb i32) (param $pc i32) (param $k i32)
    (local $kk i32) (local $acc f32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $kk) (local.get $k)))
        (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
        (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
        (br $next)))
    (f32.store (local.get $pc) (local.get $acc)))

  ;; C [m, n] (row stride ldc) = A·B with A given as its transpose at [k, m] (row stride m) and B(k, j) at
  ;; b + 4·(k·sbk + j·sbj), for few columns: eight rows of C per pair of vectors, one column of C at a time.
  (func (export "gemmColumns") (param $at i32) (param $b i32) (param $sbk i32) (param $sbj i32)
    (param $c i32) (param $ldc i32) (param $m i32) (param $k i32) (param $n i32)
    (local $i i32) (local $j i32) (local $kk i32) (local $m8 i32) (local $pa i32) (local $pb i32) (local $pc i32)
    (local $lda i32) (local $x v128) (local $c0 v128) (local $c1 v128) (local $acc f32)
    (local.set $sbk (i32.shl (local.get $sbk) (i32.const 2)))
    (local.set $sbj (i32.shl (local.get $sbj) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $lda (i32.shl (local.get $m) (i32.const 2)))
    (local.set $m8 (i32.and (local.get $m) (i32.const -8)))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $m8)))
            (local.set $pa (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $sbj))))
            (local.set $c0 (v128.const i32x4 0 0 0 0))
            (local.set $c1 (v128.const i32x4 0 0 0 0))
            (local.set $kk (i32.const 0))
            (block $kdone
              (loop $kloop
                (br_if $kdone (i32.ge_u (local.get $kk) (local.get $k)))
                (local.set $x (v128.load32_splat (local.get $pb)))
                (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (v128.load (local.get $pa)) (local.get $x))))
                (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (v128.load offset=16 (local.get $pa)) (local.get $x))))
                (local.set $pa (i32.add (local.get $pa) (local.get $lda)))
                (local.set $pb (i32.add (local.get $pb) (local.get $sbk)))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $kloop)))
            (local.set $pc (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2)))))
            (f32.store (local.get $pc) (f32x4.extract_lane 0 (local.get $c0)))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
            (f32.store (local.get $pc) (f32x4.extract_lane 1 (local.get $c0)))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
            (f32.store (local.get $pc) (f32x4.extract_lane 2 (local.get $c0)))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
            (f32.store (local.get $pc) (f32x4.extract_lane 3 (local.get $c0)))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
            (f32.store (local.get $pc) (f32x4.extract_lane 0 (local.get $c1)))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
            (f32.store (local.get $pc) (f32x4.extract_lane 1 (local.get $c1)))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
            (f32.store (local.get $pc) (f32x4.extract_lane 2 (local.get $c1)))
            (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
            (f32.store (local.get $pc) (f32x4.extract_lane 3 (local.get $c1)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $iloop)))
        ;; The rows left over, one value at a time.
        (block $rdone
          (loop $rloop
            (br_if $rdone (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $pa (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2))))
            (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $sbj))))
            (local.set $acc (f32.const 0))
            (local.set $kk (i32.const 0))
            (block $kdone1
              (loop $kloop1
                (br_if $kdone1 (i32.ge_u (local.get $kk) (local.get $k)))
                (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
                (local.set $pa (i32.add (local.get $pa) (local.get $lda)))
                (local.set $pb (i32.add (local.get $pb) (local.get $sbk)))
                (local.set $kk (i32.add (local.get $kk) (i32.const 1)))
                (br $kloop1)))
            (f32.store
              (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2))))
              (local.get $acc))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rloop)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop)))))
