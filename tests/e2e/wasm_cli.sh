#!/usr/bin/env bash
# rvm wasm validate|run: results as the spec writes them, traps with exit 1, bad input exit 2.
set -uo pipefail
agents="$RVM_BUILD/agents"
basic="$RVM_SOURCE/fuzz/seeds/fuzz_wasm/basic.wasm" # sum, div, load, fib, grow, inf
if [ ! -f "$agents/kernels.wasm" ]; then
  echo "SKIP: wasm agents not built (clang/wasm-ld missing)"; exit 0
fi
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$RVM_BIN" wasm run "$agents/kernels.wasm" --invoke fib 20) || fail "run fib"
[ "$out" = "i32:6765" ] || fail "fib 20 printed '$out'"
out=$("$RVM_BIN" wasm run "$agents/kernels.wasm" --invoke matmul 8 2) || fail "run matmul"
[[ $out =~ ^i64:[0-9]+$ ]] || fail "matmul printed '$out'"
# Fuel: too little suspends (exit 1); enough reports the fuel used.
"$RVM_BIN" wasm run "$agents/kernels.wasm" --invoke fib 25 --fuel 1000 >"$tmp/o" && fail "fuel 1000 finished"
grep -q "^out of fuel after" "$tmp/o" || fail "no out-of-fuel line"
"$RVM_BIN" wasm run "$agents/kernels.wasm" --invoke fib 10 --fuel 100000 >"$tmp/o" || fail "fuel run"
grep -q "^fuel used: [0-9]" "$tmp/o" || fail "no fuel line"
# Traps print the spec's reason and exit 1.
"$RVM_BIN" wasm run "$basic" --invoke div 1 0 >"$tmp/o"; rc=$?
[ $rc = 1 ] || fail "trap exit status $rc"
grep -q "^trap: integer divide by zero" "$tmp/o" || fail "trap line: $(cat "$tmp/o")"
"$RVM_BIN" wasm run "$basic" --invoke load 70000 >"$tmp/o"; rc=$?
[ $rc = 1 ] && grep -q "^trap: out of bounds memory access" "$tmp/o" || fail "oob: $(cat "$tmp/o")"
out=$("$RVM_BIN" wasm run "$basic" --invoke sum 100000) || fail "run sum"
[ "$out" = "i64:5000050000" ] || fail "sum printed '$out'"
# Validation: a good module lists its exports; a corrupt one names the byte offset, exit 1.
"$RVM_BIN" wasm validate "$agents/kernels.wasm" >"$tmp/o" || fail "validate kernels"
grep -q '^export "fib" func (i32) -> (i32)' "$tmp/o" || fail "exports not listed"
head -c 300 "$agents/kernels.wasm" >"$tmp/cut.wasm"
"$RVM_BIN" wasm validate "$tmp/cut.wasm" >"$tmp/o"; rc=$?
[ $rc = 1 ] || fail "corrupt module exit $rc"
grep -q "at byte offset [0-9]" "$tmp/o" || fail "no byte offset: $(cat "$tmp/o")"
# Bad usage and bad arguments: exit 2.
"$RVM_BIN" wasm run >/dev/null 2>&1; [ $? = 2 ] || fail "usage exit"
"$RVM_BIN" wasm run "$agents/kernels.wasm" --invoke fib x >/dev/null 2>&1; [ $? = 2 ] || fail "bad arg exit"
"$RVM_BIN" wasm run "$agents/kernels.wasm" --invoke nosuch >/dev/null 2>&1; [ $? = 2 ] || fail "no export exit"
echo "wasm_cli: ok"
