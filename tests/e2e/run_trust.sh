#!/usr/bin/env bash
# tests/e2e/run_trust.sh - an agent whose trust drops below the floor is split off into a
# partition of its own and stays there; its team keeps talking to it.
source "$(dirname "$0")/run_lib.bash"

run_manifest trust 2.5 --cpus 2
check_common trust
check_summary trust 'd["splits"] >= 1' \
  '[a for a in d["agents"] if a["name"] == "t2"][0]["quarantined"]' \
  '[a for a in d["agents"] if a["name"] == "t2"][0]["trust"] == 20' \
  '[p for p in d["partitions"] if "t2" in p["agents"]][0]["agents"] == ["t2"]' \
  'not any(a["quarantined"] for a in d["agents"] if a["name"] != "t2")'
echo "run_trust: ok"
