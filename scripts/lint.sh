#!/usr/bin/env bash
# make lint: clang-tidy over every C file in compile_commands.json, then cppcheck.
set -euo pipefail
build=${1:-build/host}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
files=$(find kernel lib wasm platform/hosted tools/rvm -name '*.c' | sort)
echo "lint: clang-tidy on $(echo "$files" | wc -l) files"
log=$(mktemp) db=$(mktemp -d)
# clang-tidy is clang: drop the GCC-only flags from the compile database.
sed 's/ -fno-tree-loop-distribute-patterns//g' "$build/compile_commands.json" >"$db/compile_commands.json"
build=$db
# shellcheck disable=SC2086
if ! clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-unused-command-line-argument --extra-arg-before=--driver-mode=gcc $files >"$log" 2>&1; then
  grep -v 'warnings generated' "$log"; rm -f "$log"
  echo "lint: clang-tidy found problems"; exit 1
fi
rm -f "$log"
echo "lint: cppcheck"
cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
  --std=c11 --inline-suppr -I include -I platform/hosted $(pkg-config --cflags-only-I libcjson) \
  --suppress=missingIncludeSystem kernel lib wasm platform/hosted tools/rvm
echo "lint: clean"
