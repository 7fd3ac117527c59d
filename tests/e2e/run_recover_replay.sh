#!/usr/bin/env bash
# tests/e2e/run_recover_replay.sh - DC-14 rollbacks in the swarm lose no message: agents are
# rebuilt from their snapshots and re-run against their input tapes (F1, F2, F3), F3 drops only
# the message a deterministic trap comes back on; the log audits, every agent life replays
# (rvm journal --check), every partition digest rebuilds (rvm replay --check), and the IPC
# counters add up with the skipped messages reported.
source "$(dirname "$0")/run_lib.bash"

q() { "$RVM_BIN" query "$WORK/$1/witness.log" --pub "$WORK/$1/witness.pub" --json --action "$2"; }
count() { expect_rc 0 q "$1" "$2"; grep -c '"seq"' <<<"$OUT" || true; }
denied() { expect_rc 0 q "$1" "$2"; grep -c '"flags": 1' <<<"$OUT" || true; }

# Journal and partition replays of run $1 match what it recorded live.
check_replays() {
  local name=$1 parts p
  expect_rc 0 "$RVM_BIN" journal "$WORK/$name" --check
  grep -q 'digests over .* agent lives match the live run' <<<"$OUT" || fail "$name: $OUT"
  parts=$("$RVM_BIN" query "$WORK/$name/witness.log" --pub "$WORK/$name/witness.pub" \
    --action recovery.digest | awk 'NR > 1 { print $6 }' | sort -un)
  [ -n "$parts" ] || fail "$name: no recovery.digest records"
  for p in $parts; do
    expect_rc 0 "$RVM_BIN" replay "$WORK/$name" --partition "$p" --check
    grep -q ' 0 differ' <<<"$OUT" || fail "$name partition $p: $OUT"
  done
}

# 1. Transient faults, one per epoch into a random agent of the sensor-fusion pipeline (whose
# partitions merge): repeated faults escalate to F2/F3 rollbacks of whole partitions. Every
# rebuilt agent goes live where it was; nothing is skipped (a fault that does not come back
# on replay has no input to blame).
MANIFEST="$RVM_SOURCE/examples/sensor_fusion.json" run_manifest fusion 3 --cpus 2 --faults 1
check_common fusion
f2=$(count fusion recovery.f2_reconstruct)
f3=$(count fusion recovery.f3_rollback)
replays=$(count fusion recovery.replay)
bad=$(denied fusion recovery.replay)
[ $((f2 + f3)) -ge 1 ] || fail "fusion: no rollback (f2 $f2, f3 $f3)"
check_summary fusion "d['recovery']['rollbacks'] >= 1" "d['recovery']['replays'] == $replays - $bad" \
  "d['recovery']['messages_replayed'] > 0" "d['messages_skipped'] == 0" \
  "d['recovery']['replay_failed'] == $bad"
[ "$(count fusion recovery.skip)" = 0 ] || fail "fusion: a transient fault skipped an input"
check_replays fusion
echo "fusion: $f2 F2 and $f3 F3 rollbacks, $replays agent replays, none lost"

# 2. A deterministic trap (flaky divides by zero from its 2000th message on): replay brings it
# back, so each fault ends in F3 dropping the message it trapped on, witnessed.
MANIFEST=$(trap_variant) run_manifest trap 3 --cpus 2
check_common trap
skips=$(count trap recovery.skip)
[ "$skips" -ge 1 ] || fail "trap: no recovery.skip"
check_summary trap "d['messages_skipped'] == $skips" "d['recovery']['rollbacks'] >= $skips" \
  "d['messages_sent'] == d['messages_received'] + d['messages_queued']"
# Each skip names a message the flaky agent received (its RECV entry in the journal).
expect_rc 0 q trap recovery.skip
python3 - "$WORK/trap/journal.log" "$OUT" <<'PY' || fail "trap: a skip names no received message"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
ents, o = {}, 16
while o + 32 <= len(b):
    seq, agent, kind, flags, ln, aux = struct.unpack_from("<QIHHII", b, o)
    ents.setdefault(seq, []).append((agent, kind, ln))
    o += 32 + ((ln + 7) & ~7)
recs = json.loads(sys.argv[2])
recs = recs["records"] if isinstance(recs, dict) else recs
for r in recs:
    agent, kind, ln = ents[r["arg0"]][r["arg1"] & 0xff]
    assert (agent, kind, ln) == (r["target"], 1, r["arg1"] >> 32), r
PY
check_replays trap
echo "trap: $skips messages skipped by F3, each named; journal and partitions replay"
echo "run_recover_replay: ok"
