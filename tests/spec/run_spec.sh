#!/usr/bin/env bash
# Runs every converted spec script through `rvm wasm spec`; fails on any failed assertion,
# on a missing file, or on a skip other than assert_malformed/assert_invalid of text modules.
set -euo pipefail
dir="${RVM_TESTDATA:-../shared/testdata}/wasm-spec"
if [ ! -d "$dir" ]; then
  echo "SKIP: WebAssembly spec test data absent ($dir)"; exit 77
fi
shopt -s nullglob
files=("$dir"/*/*.json)
if [ ${#files[@]} -lt 82 ]; then
  echo "spec: expected 82 scripts in $dir, found ${#files[@]}"; exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
"$RVM_BIN" wasm spec "${files[@]}" >"$out" || rc=$?
cat "$out"
last=$(tail -1 "$out")
# The only skips allowed are text-format modules (RVM loads binary modules): the suite has 567.
expected_skips=$(grep -ho '"module_type": "text"' "${files[@]}" | wc -l)
if ! [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
  echo "spec: no summary line"; exit 1
fi
passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} skipped=${BASH_REMATCH[3]}
if [ "$rc" != 0 ] || [ "$failed" != 0 ]; then
  echo "spec: $failed assertions failed"; exit 1
fi
if [ "$skipped" != "$expected_skips" ]; then
  echo "spec: $skipped skipped, but only the $expected_skips text-module assertions may be"; exit 1
fi
if [ "$passed" -lt 26000 ]; then
  echo "spec: only $passed assertions passed"; exit 1
fi
echo "spec: all $passed assertions passed ($skipped text-module assertions skipped)"
