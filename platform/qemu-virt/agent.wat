;; platform/qemu-virt/agent.wat - the demo's WebAssembly agent: a deterministic worker.
;; run(steps, faulty): does `steps` rounds of work, reporting each round's checksum to the host
;; through rvm.progress; with faulty = 1 it first stores outside its linear memory and traps.
(module
  (import "rvm" "progress" (func $progress (param i64)))
  (memory 1)
  (func (export "run") (param $steps i64) (param $faulty i64) (result i64)
    (local $i i64) (local $j i32) (local $acc i64)
    (if (i64.eq (local.get $faulty) (i64.const 1))
      (then (i64.store (i32.const 70000) (i64.const 1)))) ;; past the 64 KiB page: traps
    (local.set $acc (i64.const 0x9e3779b97f4a7c15))
    (loop $round
      ;; A few thousand instructions of mixing per round: enough to span fuel slices.
      (local.set $j (i32.const 0))
      (loop $mix
        (local.set $acc (i64.xor (i64.rotl (local.get $acc) (i64.const 13))
                                 (i64.mul (local.get $acc) (i64.const 0x100000001b3))))
        (i64.store (i32.and (i32.shl (local.get $j) (i32.const 3)) (i32.const 0xfff8))
                   (local.get $acc))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $mix (i32.lt_u (local.get $j) (i32.const 500))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (call $progress (i64.add (local.get $acc) (local.get $i)))
      (br_if $round (i64.lt_u (local.get $i) (local.get $steps))))
    (local.get $acc)))
