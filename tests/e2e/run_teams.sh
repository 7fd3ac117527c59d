#!/usr/bin/env bash
# tests/e2e/run_teams.sh - chatty teams: partitions that mix two teams are split along the min
# cut and the halves that belong together merge; nothing is lost on the way.
source "$(dirname "$0")/run_lib.bash"

run_manifest teams 3 --cpus 2
check_common teams
check_summary teams 'd["splits"] >= d["expect"]["splits"]' 'd["merges"] >= d["expect"]["merges"]' \
  'd["traps"] == 0' 'all(len(p["agents"]) <= 4 for p in d["partitions"])'
# Every split and merge is in the signed log.
expect_rc 0 "$RVM_BIN" query "$WORK/teams/witness.log" --pub "$WORK/teams/witness.pub" --json \
  --action partition.split
[ "$(grep -c '"seq"' <<<"$OUT")" -ge 1 ] || fail "no partition.split record"
echo "run_teams: ok"
