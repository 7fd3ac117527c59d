#!/usr/bin/env bash
# tests/e2e/run_sensor_fusion.sh - the sensor-fusion pipeline: partitions merge along the
# pipeline, every message sent is received or still queued, the log audits clean.
source "$(dirname "$0")/run_lib.bash"

run_manifest sensor_fusion 2.5 --cpus 2
check_common sensor_fusion
check_summary sensor_fusion 'd["merges"] >= d["expect"]["merges"]' \
  'len(d["partitions"]) < len(d["agents"])' 'd["traps"] == 0'
# --until-expect: past --seconds a run goes on until the manifest's expect counts are reached,
# at most MAX seconds in all: an expectation no run meets takes it to MAX.
python3 - "$RVM_SOURCE/examples/sensor_fusion.json" "$WORK/m_never.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["expect"]["merges"] = 1000000
json.dump(d, open(sys.argv[2], "w"))
PY
MANIFEST="$WORK/m_never.json" run_manifest never 0.2 --cpus 2 --until-expect 1.5
check_summary never 'd["seconds"] >= 1.5' 'd["merges"] < 1000000'
echo "run_sensor_fusion: ok"
