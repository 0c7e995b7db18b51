;; Float32 kernels of simd-add.ts: dst += src and dst /= x, four lanes per instruction (f32x4). V8 does not
;; vectorise the equivalent JS loops; these run at memory speed. Results are bit-identical to the scalar loops because
;; f32x4.add / f32x4.div are the same IEEE float32 operations, lane by lane.
;;
;; Compiled into generated/simd-add.wasm.ts by `node tools/build-wasm.mjs` (wabt); after editing
;; this file run that script and commit both. test/wasm-sources.test.ts fails while the two disagree; simd-add.test.ts
;; checks the kernels against the JS loops: node tools/run-tests.mjs libs/collective simd-add
;;
;; Calling convention: all arguments are byte addresses into the exported memory; simd-add.ts copies the operands in
;; and the results out, and only passes ranges whose length is a multiple of 16 bytes (it finishes tails in JS).
(module
  ;; One page to start with; simd-add.ts grows it to fit the largest operands it has seen.
  (memory (export "mem") 1)

  ;; add(d, s, end): f32 [d, end) += f32 [s, s + (end - d)).
  (func (export "add") (param $d i32) (param $s i32) (param $end i32)
    (block $done
      (loop $next
        ;; Unsigned compare: addresses are offsets into the memory, never negative.
        (br_if $done (i32.ge_u (local.get $d) (local.get $end)))
        (v128.store (local.get $d)
          (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $s))))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (br $next))))

  ;; div(d, end, x): f32 [d, end) /= x. A true division, not a multiply by 1/x: 1/x is inexact for most x (a world
  ;; size of 3, say), so only the division matches the scalar loop bit for bit.
  (func (export "div") (param $d i32) (param $end i32) (param $x f32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $d) (local.get $end)))
        (v128.store (local.get $d)
          (f32x4.div (v128.load (local.get $d)) (f32x4.splat (local.get $x))))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (br $next)))))
