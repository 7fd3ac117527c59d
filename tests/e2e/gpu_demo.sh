#!/usr/bin/env bash
# tests/e2e/gpu_demo.sh - matmul + reduction through RVM on OpenCL (PoCL) equal the cpu backend's; log audits.
set -euo pipefail
: "${RVM_BIN:?RVM_BIN must name the rvm binary}"
: "${RVM_SOURCE:?RVM_SOURCE must name the source tree}"
WORK=$(mktemp -d /tmp/rvm-e2e-gpu.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# PoCL needs a writable kernel cache (ctest sets one in the build tree).
export POCL_CACHE_DIR=${POCL_CACHE_DIR:-$WORK/pocl}
mkdir -p "$POCL_CACHE_DIR"
K="$RVM_SOURCE/examples/gpu"

expect_rc() { # expect_rc WANT CMD...: keeps stdout+stderr in $OUT
  local want=$1 rc=0
  shift
  OUT=$("$@" 2>&1) || rc=$?
  [ "$rc" = "$want" ] || { echo "$OUT" >&2; fail "'$*' exited $rc, expected $want"; }
}

# Both backends, one run: the results must be identical and the witness log must audit.
expect_rc 0 "$RVM_BIN" gpu demo --kernels "$K" --n 48 --out "$WORK/run"
echo "$OUT"
grep -q '^opencl device: ' <<<"$OUT" || fail "no OpenCL device line"
grep -q '^opencl vs cpu: identical$' <<<"$OUT" || fail "backends disagree"
grep -q '^opencl: matmul 48x48 .*reduce sum \([0-9]*\) (host \1)$' <<<"$OUT" ||
  fail "OpenCL reduction differs from the host's"
expect_rc 0 "$RVM_BIN" audit "$WORK/run/witness.log"
grep -q 'verdict: OK' <<<"$OUT" || fail "audit: $OUT"
# Completed launches are folded into epoch batches: one record per partition's run of them.
grep -q 'gpu.launch 2' <<<"$OUT" || fail "expected 2 batch records of launches: $OUT"
grep -q '4 events folded into epoch batches' <<<"$OUT" || fail "expected 4 batched launches: $OUT"
grep -q 'gpu.transfer 10' <<<"$OUT" || fail "expected 10 witnessed transfers: $OUT"
expect_rc 0 "$RVM_BIN" query "$WORK/run/witness.log" --action gpu.launch --actor 1
# flags 12: BATCH | WORDFOLD; target: the launches it stands for.
grep -qE 'gpu.launch +12 +1 +2 ' <<<"$OUT" || fail "the OpenCL partition made 2 launches: $OUT"

# A launch budget of 1: the second launch is refused with its own error, and says so.
expect_rc 2 "$RVM_BIN" gpu demo --kernels "$K" --n 8 --backend opencl --launch-budget 1
grep -q 'RVM_E_BUDGET_LAUNCHES' <<<"$OUT" || fail "budget refusal not named: $OUT"

# Bad input: exit 2 and a clear message, never a crash.
expect_rc 2 "$RVM_BIN" gpu demo --kernels "$WORK/nowhere"
grep -q 'cannot read matmul.cl' <<<"$OUT" || fail "missing kernels: $OUT"
expect_rc 2 "$RVM_BIN" gpu demo --backend vulkan
expect_rc 2 "$RVM_BIN" gpu demo --n 0
expect_rc 2 "$RVM_BIN" gpu demo --kernels "$K" --device no-such-device-anywhere --backend opencl
grep -q 'RVM_E_NOTFOUND' <<<"$OUT" || fail "unknown device: $OUT"
mkdir -p "$WORK/bad"
printf '__kernel void matmul(__global float *a) { a[0] = undefined_name; }\n' > "$WORK/bad/matmul.cl"
cp "$K/reduce.cl" "$WORK/bad/"
expect_rc 2 "$RVM_BIN" gpu demo --kernels "$WORK/bad" --backend opencl
grep -q 'build matmul.cl' <<<"$OUT" || fail "build error not reported: $OUT"
grep -q 'undefined_name' <<<"$OUT" || fail "build log not shown: $OUT"
echo "gpu_demo: OK"
