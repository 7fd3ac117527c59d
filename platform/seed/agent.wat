;; platform/seed/agent.wat - the seed's WebAssembly task: a filter stage with no linear memory.
;; on_event(x) -> i32: x = restarts << 16 | value. Mixes value into its state (a global: the
;; agent's only memory) over 64 rounds, reports the state to the host through rvm.report, and
;; returns it. Value 4 on its first life divides by zero: the trap that F1 recovers from.
(module
  (import "rvm" "report" (func $report (param i32)))
  (global $state (mut i32) (i32.const 0x9e3779b9))
  (func (export "on_event") (param $x i32) (result i32)
    (local $i i32) (local $s i32)
    (drop (i32.div_u (i32.const 1) (i32.ne (local.get $x) (i32.const 4)))) ;; traps on x == 4
    (local.set $s (i32.xor (global.get $state) (i32.and (local.get $x) (i32.const 0xffff))))
    (loop $mix
      ;; xorshift32 and a multiply: a few hundred instructions, several fuel slices
      (local.set $s (i32.xor (local.get $s) (i32.shl (local.get $s) (i32.const 13))))
      (local.set $s (i32.xor (local.get $s) (i32.shr_u (local.get $s) (i32.const 17))))
      (local.set $s (i32.mul (i32.xor (local.get $s) (i32.shl (local.get $s) (i32.const 5)))
                             (i32.const 0x01000193)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $mix (i32.lt_u (local.get $i) (i32.const 64))))
    (global.set $state (local.get $s))
    (call $report (local.get $s))
    (local.get $s)))
