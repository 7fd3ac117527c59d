#!/usr/bin/env bash
# tests/e2e/gpu_trap.sh - issue 11: the offload agent traps after its matmul, holding GPU buffers;
# F1 restarts it from the snapshot a checkpoint took while it waited, the kernel brings its GPU
# state back with it (names, buffers, the product it had spoiled before the trap), and it logs
# the same line as an undisturbed run. The run replays.
source "$(dirname "$0")/run_lib.bash"

# variant OUT TRAP_MS: examples/gpu.json on the cpu backend, one budget epoch for the whole run
# (the agent tells its lives apart by the launches spent), 20 ms coherence epochs (a checkpoint
# every 20 of them), the offload agent waiting TRAP_MS after its matmul and trapping once.
variant() {
  python3 - "$RVM_SOURCE/examples/gpu.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["gpu"]["backend"] = "cpu"
d["gpu"]["epoch_ms"] = 600000
d["agents"][0]["args"] = [32, 0, int(sys.argv[3])]
d["limits"]["epoch_ms"] = 20
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

MANIFEST=$(variant "$WORK/m_plain.json" 0) run_manifest plain 3
plain=$(agent_log plain offload)
[[ "$plain" == "ok mm="*" sum="* ]] || fail "undisturbed offload: '$plain'"
check_summary plain 'd["traps"] == 0'

MANIFEST=$(variant "$WORK/m_trap.json" 1200) run_manifest trap 5
check_summary trap 'd["traps"] == 1' 'd["recoveries"] == 1' \
  '[p for p in d["partitions"] if "gpu" in p][0]["gpu"]["launches"]["used"] == 3' \
  '[p for p in d["partitions"] if "gpu" in p][0]["gpu"]["memory_bytes"]["used"] == 0'
# The same product: the kernel wrote back what the checkpoint captured over the spoiled one.
[ "$(agent_log trap offload)" = "$plain" ] || fail "after F1: '$(agent_log trap offload)' != '$plain'"
# Checkpoint transfers are on record, marked (arg0 bit 62): reads at capture, writes at restore.
expect_rc 0 q trap --action gpu.transfer --json
# Through a file: a long run's records outgrow one command-line argument (128 KiB).
printf '%s' "$OUT" >"$WORK/transfers.json"
python3 - "$WORK/transfers.json" <<'PY' || fail "checkpoint transfers: $(head -c 2000 "$WORK/transfers.json")"
import json, sys
recs = json.load(open(sys.argv[1]))
ck = [r for r in recs if r["arg0"] >> 62 & 1]
reads = [r for r in ck if r["arg0"] >> 63]
writes = [r for r in ck if not r["arg0"] >> 63]
assert reads and writes, (len(reads), len(writes))
assert all(r["arg1"] in (4096, 64) for r in ck), ck
PY
expect_rc 0 q trap --action recovery.f1_restart_agent
# The restarted life resumed from a snapshot and replays like the others.
expect_rc 0 "$RVM_BIN" journal "$WORK/trap" --check
grep -q '[1-9][0-9]* of them resumed from a checkpoint' <<<"$OUT" || fail "no resumed life: $OUT"
echo "gpu_trap: ok"
