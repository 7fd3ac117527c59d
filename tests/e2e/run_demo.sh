#!/usr/bin/env bash
# tests/e2e/run_demo.sh - the `make run` demo for a short while: it boots, runs, reshapes,
# audits clean, and draws its partition graph.
source "$(dirname "$0")/run_lib.bash"

run_manifest demo 3 --cpus 2 --graph "$WORK/demo.dot"
check_common demo
check_summary demo 'd["splits"] + d["merges"] >= 1'
grep -q 'subgraph cluster_P' "$WORK/demo.dot" || fail "graph has no partitions"
grep -q -- '->' "$WORK/demo.dot" || fail "graph has no edges"
# The live view in plain mode, and the status file every view writes.
expect_rc 0 "$RVM_BIN" run "$RVM_SOURCE/examples/demo.json" --out "$WORK/live" --seconds 1.2 --plain
grep -q 'partitions=' <<<"$OUT" || fail "no plain status lines: $OUT"
grep -q 'messages .* 0 lost' <<<"$OUT" || fail "no summary: $OUT"
# No view reports a rate no machine reaches (the first view once divided by microseconds).
max_rate=$(grep -o 'msgs/s=[0-9]*' <<<"$OUT" | cut -d= -f2 | sort -n | tail -1)
[ -n "$max_rate" ] && [ "$max_rate" -lt 100000000 ] || fail "implausible msgs/s: $max_rate"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["running"] is False and s["partitions"]' \
  "$WORK/live/status.json" || fail "status.json"
echo "run_demo: ok"
