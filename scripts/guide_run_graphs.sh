#!/usr/bin/env bash
# scripts/guide_run_graphs.sh - the guide's partition graphs before and after a split, drawn by `rvm run --graph`.
# Runs docs/guide/examples/trust-drop.json twice: stopped at 1.2 s (merged, before sensor1's trust
# drops at 1.5 s) and to its end (sensor1 split off), and keeps both graphs as docs/guide/img/*.dot;
# scripts/guide_diagrams.sh renders them. Usage: guide_run_graphs.sh [RVM_BINARY]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rvm=${1:-$root/build/host/tools/rvm/rvm}
[ -x "$rvm" ] || { echo "guide_run_graphs: no rvm binary at $rvm (run make first)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
manifest=$root/docs/guide/examples/trust-drop.json
"$rvm" run "$manifest" --out "$work/before" --seconds 1.2 --quiet --graph "$root/docs/guide/img/run-before.dot" >/dev/null
"$rvm" run "$manifest" --out "$work/after" --quiet --graph "$root/docs/guide/img/run-after.dot" >/dev/null
grep -q 'color=red' "$root/docs/guide/img/run-after.dot" || { echo "guide_run_graphs: no split in the run" >&2; exit 1; }
bash "$root/scripts/guide_diagrams.sh"
