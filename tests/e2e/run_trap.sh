#!/usr/bin/env bash
# tests/e2e/run_trap.sh - a trapping agent is recovered (DC-14: F1 from its last snapshot, escalating
# on repeated faults); the log shows each trap and each step; the rest of the pipeline keeps running.
source "$(dirname "$0")/run_lib.bash"

MANIFEST=$(trap_variant) run_manifest trap 3 --cpus 2
check_common trap
check_summary trap 'd["recoveries"] >= d["expect"]["recoveries"]' 'd["traps"] >= d["recoveries"]' \
  '[a for a in d["agents"] if a["name"] == "sink"][0]["received"] > 0'
q() { "$RVM_BIN" query "$WORK/trap/witness.log" --pub "$WORK/trap/witness.pub" --json "$@"; }
count() { expect_rc 0 q --action "$1"; grep -c '"seq"' <<<"$OUT" || true; }
traps=$(count agent.trap)
faults=$(count recovery.fault)
f1=$(count recovery.f1_restart_agent)
f4=$(count recovery.f4_reboot)
ckpts=$(count recovery.checkpoint)
# Every trap but the one past the restart limit is a fault that DC-14 recovery handled: F1
# first (the agent restarts from its snapshot in the partition's newest checkpoint), a class
# higher when faults repeat; F4 would stop the agent (a hosted swarm does not reboot).
check_summary trap "d['traps'] == $traps" "d['recoveries'] + $f4 == $faults" \
  "[a for a in d['agents'] if a['name'] == 'flaky'][0]['restarts'] == $faults" \
  "$f1 >= 1" "$ckpts >= 1"
# F1 restarted from a snapshot: the journal has RESUME entries, and those lives replay.
expect_rc 0 "$RVM_BIN" journal "$WORK/trap" --check
resumes=$(sed -n 's/.* resume \([0-9]*\),.*/\1/p' <<<"$OUT")
[ "${resumes:-0}" -ge 1 ] || fail "trap: no agent resumed from a snapshot: $OUT"
grep -q '[1-9][0-9]* of them resumed from a checkpoint' <<<"$OUT" || fail "trap: $OUT"
ls "$WORK/trap/checkpoints/"*.ckpt >/dev/null || fail "trap: no checkpoint files"
echo "run_trap: ok"
