#!/usr/bin/env bash
# tests/e2e/run_hub.sh - a hub spawns its clients (rvm.spawn) and answers each request; a
# client traps on a wrong answer, so zero traps means every answer was right.
source "$(dirname "$0")/run_lib.bash"

run_manifest hub 2.5 --cpus 2
check_common hub
check_summary hub 'd["agents_total"] == 7' 'd["traps"] == 0' \
  'all(a["received"] > 0 for a in d["agents"])' \
  'sum(1 for a in d["agents"] if a["module"] == "client") == 6' \
  'd["merges"] >= d["expect"]["merges"]'
echo "run_hub: ok"
