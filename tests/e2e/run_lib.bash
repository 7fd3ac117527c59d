# tests/e2e/run_lib.bash - helpers for the `rvm run` e2e tests (sourced, not a test itself).
set -euo pipefail
: "${RVM_BIN:?RVM_BIN must name the rvm binary}"
: "${RVM_SOURCE:?RVM_SOURCE must name the source tree}"
WORK=$(mktemp -d /tmp/rvm-e2e-run.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_rc WANT CMD... : runs CMD, keeps its stdout+stderr in $OUT, checks the exit status.
expect_rc() {
  local want=$1 rc=0
  shift
  OUT=$("$@" 2>&1) || rc=$?
  [ "$rc" = "$want" ] || { echo "$OUT" >&2; fail "'$*' exited $rc, expected $want"; }
}

# run_manifest NAME SECONDS [ARGS...]: runs examples/NAME.json into $WORK/NAME with --json;
# the summary lands in $WORK/NAME.json, then the log is audited. MANIFEST=path overrides the
# file (a variant written by the test). A run that has not shown the manifest's "expect"
# counts after SECONDS (a starved run on a loaded machine) goes on, 60 s at most.
run_manifest() {
  local name=$1 secs=$2
  shift 2
  "$RVM_BIN" run "${MANIFEST:-$RVM_SOURCE/examples/$name.json}" --out "$WORK/$name" \
    --seconds "$secs" --until-expect 60 --json "$@" >"$WORK/$name.json" ||
    fail "rvm run $name exited $?"
  expect_rc 0 "$RVM_BIN" audit "$WORK/$name/witness.log" --pub "$WORK/$name/witness.pub"
  grep -q 'verdict: OK' <<<"$OUT" || fail "audit of $name: $OUT"
}

# trap_variant: examples/trap.json with the bug striking after 2000 messages instead of 50000,
# so a slow machine (or ASan) still sees several traps in a short run. Prints its path.
trap_variant() {
  python3 - "$RVM_SOURCE/examples/trap.json" "$WORK/trap_fast.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for a in d["agents"]:
    if a["name"] == "flaky":
        a["args"] = [1, 2000]
json.dump(d, open(sys.argv[2], "w"))
PY
  echo "$WORK/trap_fast.json"
}

# check_summary NAME PYTHON-EXPRESSIONS...: each expression over d (the summary) must hold.
check_summary() {
  local name=$1
  shift
  python3 - "$WORK/$name.json" "$@" <<'PY' || fail "summary check of $1"
import json, sys
d = json.load(open(sys.argv[1]))
for e in sys.argv[2:]:
    if not eval(e, {"d": d}):
        print("failed:", e, "summary:", json.dumps({k: v for k, v in d.items() if k != "agents"}))
        sys.exit(1)
PY
}

# The invariants every run keeps: no message lost, kernel IPC agrees with the channels,
# the status file says the run ended.
check_common() {
  local name=$1
  check_summary "$name" 'd["messages_lost"] == 0' 'd["kernel_ipc_mismatches"] == 0' \
    'd["messages_sent"] == d["messages_received"] + d["messages_queued"]' \
    'd["boot_phases"] == 7' 'd["messages_received"] > 0' \
    'sum(a["sent"] for a in d["agents"]) == d["messages_sent"]' \
    'sum(a["received"] for a in d["agents"]) == d["messages_received"]'
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["running"] is False' \
    "$WORK/$name/status.json" || fail "$name: status.json does not say the run ended"
}
