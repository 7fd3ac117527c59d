#!/usr/bin/env bash
# tests/e2e/gpu_run.sh - an agent offloads a matmul and a reduction through rvm.gpu_* under
# `rvm run` (examples/gpu.json): OpenCL (PoCL) and cpu agree, the run replays, denials and
# budget refusals reach the agent as negative codes and are witnessed, bad grants are named.
source "$(dirname "$0")/run_lib.bash"
export POCL_CACHE_DIR=${POCL_CACHE_DIR:-$WORK/pocl}
mkdir -p "$POCL_CACHE_DIR"

# variant OUT BACKEND LAUNCHES EXTRA: examples/gpu.json with the backend, the launch budget and
# the extra launches the offload agent tries after its check. Prints OUT.
variant() {
  python3 - "$RVM_SOURCE/examples/gpu.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["gpu"]["backend"] = sys.argv[3]
d["gpu"]["epoch_ms"] = 600000  # one budget epoch for the whole run
d["gpu"]["grants"][0]["budget"]["launches"] = int(sys.argv[4])
d["agents"][0]["args"] = [32, int(sys.argv[5])]
json.dump(d, open(sys.argv[2], "w"))
PY
  echo "$1"
}
agent_log() { # agent_log RUN NAME
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([a["last_log"] for a in d["agents"] if a["name"] == sys.argv[2]][0])' "$WORK/$1.json" "$2"
}
q() { # q RUN ARGS...: witness query
  "$RVM_BIN" query "$WORK/$1/witness.log" --pub "$WORK/$1/witness.pub" "${@:2}"
}
launches() { # launches RUN: launches on record (completed ones come in epoch batches)
  q "$1" --action gpu.launch --json | python3 -c 'import json,sys
print(sum(r["target"] if r["flags"] & 4 else 1 for r in json.load(sys.stdin)))'
}

# PoCL compiles a kernel at its build and again at its first launch per work-group size (about
# a second each on a cold cache): the demo builds the same sources with the same sizes first.
expect_rc 0 "$RVM_BIN" gpu demo --kernels "$RVM_SOURCE/examples/gpu" --n 32 --backend opencl

# 1. OpenCL: the agent's results match its own CPU check; the bystander has no grant.
MANIFEST=$(variant "$WORK/m_ocl.json" opencl 64 0) run_manifest ocl 5
check_summary ocl 'd["gpu_backend"] == "opencl"' 'd["traps"] == 0' 'd["running"] is False' \
  '[p for p in d["partitions"] if "gpu" in p][0]["gpu"]["launches"] == {"used": 2, "limit": 64}' \
  'len([p for p in d["partitions"] if "gpu" in p]) == 1'
ocl=$(agent_log ocl offload)
[[ "$ocl" == "ok mm="*" sum="* ]] || fail "opencl offload: '$ocl'"
[ "$(agent_log ocl bystander)" = "gpu denied -4" ] || fail "bystander: $(agent_log ocl bystander)"
grep -q '"gpu": {"compute_ns"' "$WORK/ocl/status.json" || fail "status.json lacks the GPU budget"
[ "$(launches ocl)" = 2 ] || fail "2 launches expected on record: $(launches ocl)"
expect_rc 0 q ocl --action gate.denied
grep -qE 'gate.denied .* 4$' <<<"$OUT" || fail "the bystander's refusal (E_PERM) is not witnessed: $OUT"
expect_rc 0 "$RVM_BIN" journal "$WORK/ocl" --check
grep -q 'digests over 2 agent lives match' <<<"$OUT" || fail "replay: $OUT"
grep -q 'gpu [1-9]' <<<"$OUT" || fail "no GPU journal entries: $OUT"

# 2. The cpu backend gives the same bits.
MANIFEST=$(variant "$WORK/m_cpu.json" cpu 64 0) run_manifest cpu 3
check_summary cpu 'd["gpu_backend"] == "cpu"'
[ "$(agent_log cpu offload)" = "$ocl" ] || fail "cpu '$(agent_log cpu offload)' != opencl '$ocl'"
expect_rc 0 "$RVM_BIN" journal "$WORK/cpu" --check

# 3. A launch budget of 5: the 6th launch is refused with E_BUDGET_LAUNCHES (40), witnessed.
MANIFEST=$(variant "$WORK/m_budget.json" cpu 5 100) run_manifest budget 3
[ "$(agent_log budget offload)" = "$ocl stop=00000028" ] ||
  fail "budget stop: '$(agent_log budget offload)'"
check_summary budget '[p for p in d["partitions"] if "gpu" in p][0]["gpu"]["launches"]["used"] == 5'
[ "$(launches budget)" = 5 ] || fail "5 launches expected on record: $(launches budget)"
expect_rc 0 q budget --action gate.denied
grep -qE 'gate.denied .* 40$' <<<"$OUT" || fail "budget refusal (E_BUDGET_LAUNCHES) not witnessed: $OUT"
expect_rc 0 "$RVM_BIN" journal "$WORK/budget" --check

# 4. The live view shows the budget (plain lines: one per second).
expect_rc 0 "$RVM_BIN" run "$(variant "$WORK/m_live.json" cpu 64 0)" --out "$WORK/live" \
  --seconds 2 --plain
grep -q 'gpu.P[0-9]*=2/64launches' <<<"$OUT" || fail "live view: $OUT"

# 5. Bad grants: exit 2, the key named.
bad() { # bad 'PYTHON EDIT of d' 'expected message'
  python3 - "$RVM_SOURCE/examples/gpu.json" "$WORK/bad.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
  expect_rc 2 "$RVM_BIN" run "$WORK/bad.json" --out "$WORK/bad" --seconds 1
  grep -qF "$2" <<<"$OUT" || fail "expected '$2', got: $OUT"
}
bad 'd["gpu"]["grants"][0]["budget"]["flops"] = 1' 'gpu.grants[0].budget.: unknown key "flops"'
bad 'del d["gpu"]["grants"][0]["budget"]["launches"]' 'gpu.grants[0].budget.launches: missing'
bad 'd["gpu"]["grants"][0]["budget"]["memory_bytes"] = -1' 'gpu.grants[0].budget.memory_bytes: must be an integer'
bad 'del d["gpu"]["grants"][0]["budget"]' 'gpu.grants[0].budget: missing'
bad 'd["gpu"]["grants"][0]["partition"] = "nowhere"' 'gpu.grants[0].partition: no agent is in a partition named "nowhere"'
bad 'd["gpu"]["grants"][0]["agent"] = "offload"' 'give exactly one of'
bad 'd["gpu"]["grants"][0]["rights"] = ["fly"]' 'gpu.grants[0].rights[0]: must be one of read, write, execute'
bad 'd["gpu"]["backend"] = "vulkan"' 'gpu.backend: must be one of auto, opencl, cpu'
bad 'd["gpu"]["grants"] = []' 'gpu.grants: must be a non-empty array'
bad 'd["gpu"]["grants"].append(dict(d["gpu"]["grants"][0]))' 'is granted twice'
bad 'd["gpu"]["speed"] = 1' 'gpu.: unknown key "speed"'
bad 'd["gpu"]["device"] = "no-such-device-anywhere"; d["gpu"]["backend"] = "opencl"' 'gpu.backend opencl: RVM_E_NOTFOUND'
echo "gpu_run: ok"
