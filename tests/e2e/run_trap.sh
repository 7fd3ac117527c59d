#!/usr/bin/env bash
# tests/e2e/run_trap.sh - a trapping agent is restarted (F1) and the log shows each trap and
# each restart; the rest of the pipeline keeps running.
source "$(dirname "$0")/run_lib.bash"

run_manifest trap 3 --cpus 2
check_common trap
check_summary trap 'd["recoveries"] >= d["expect"]["recoveries"]' 'd["traps"] >= d["recoveries"]' \
  '[a for a in d["agents"] if a["name"] == "flaky"][0]["restarts"] == d["recoveries"]' \
  '[a for a in d["agents"] if a["name"] == "sink"][0]["received"] > 0'
q() { "$RVM_BIN" query "$WORK/trap/witness.log" --pub "$WORK/trap/witness.pub" --json "$@"; }
expect_rc 0 q --action agent.trap
traps=$(grep -c '"seq"' <<<"$OUT")
expect_rc 0 q --action recovery.f1_restart_agent
restarts=$(grep -c '"seq"' <<<"$OUT")
check_summary trap "d['traps'] == $traps" "d['recoveries'] == $restarts"
echo "run_trap: ok"
