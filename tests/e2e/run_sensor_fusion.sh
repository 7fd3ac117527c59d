#!/usr/bin/env bash
# tests/e2e/run_sensor_fusion.sh - the sensor-fusion pipeline: partitions merge along the
# pipeline, every message sent is received or still queued, the log audits clean.
source "$(dirname "$0")/run_lib.bash"

run_manifest sensor_fusion 2.5 --cpus 2
check_common sensor_fusion
check_summary sensor_fusion 'd["merges"] >= d["expect"]["merges"]' \
  'len(d["partitions"]) < len(d["agents"])' 'd["traps"] == 0'
echo "run_sensor_fusion: ok"
