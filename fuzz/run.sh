#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each; any finding fails.
set -euo pipefail
build=$1 seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$build"/fuzz/fuzz_*)
if [ ${#targets[@]} = 0 ]; then
  echo "fuzz: no fuzz targets built"; exit 0
fi
for t in "${targets[@]}"; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  [ -d "$root/fuzz/seeds/$name" ] && seeds=("$root/fuzz/seeds/$name")
  echo "fuzz: $name for ${seconds}s"
  "$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/" \
    "$corpus" "${seeds[@]}" 2>"$build/$name.log" || {
      tail -50 "$build/$name.log"; echo "fuzz: $name FOUND A CRASH"; exit 1; }
  grep -E 'stat::number_of_executed_units' "$build/$name.log" || true
done
echo "fuzz: all targets ran without findings"
