#!/usr/bin/env bash
# tests/docs/docs_test.sh - runs every marked shell block of the user guide (docs/guide/*.md) so the guide cannot drift from the code.
#
# Each chapter runs in its own scratch directory that looks like the repository root (its
# top-level entries are symlinked, build/host is the build under test), in one bash with
# `set -euo pipefail`, so a block that fails fails the test and later blocks see earlier ones'
# variables. `rvm` is on PATH. Usage: docs_test.sh [CHAPTER-SUBSTRING]
set -euo pipefail
: "${RVM_SOURCE:?RVM_SOURCE must name the source tree}" "${RVM_BUILD:?RVM_BUILD must name the build dir}"
here=$(cd "$(dirname "$0")" && pwd)
guide=$RVM_SOURCE/docs/guide
work=$(mktemp -d /tmp/rvm-docs-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
only=${1:-}
ran=0 skipped=0 failed=0 chapters=0

# scratch DIR: a directory that reads like the repository root and writes into itself.
scratch() {
  mkdir -p "$1/build"
  for e in "$RVM_SOURCE"/* "$RVM_SOURCE"/.clang-format; do
    case $(basename "$e") in build | run) continue ;; esac
    ln -s "$e" "$1/$(basename "$e")"
  done
  ln -s "$RVM_BUILD" "$1/build/host"
}

# check_expect OUT EXPECT: every non-empty line of EXPECT occurs in OUT as a fixed string.
check_expect() {
  local line ok=0
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    grep -qF -- "$line" "$1" || { echo "    expected output line missing: $line"; ok=1; }
  done <"$2"
  return $ok
}

for md in "$guide"/*.md; do
  name=$(basename "$md" .md)
  [ -n "$only" ] && [[ $name != *"$only"* ]] && continue
  chapters=$((chapters + 1))
  dir=$work/$name
  mkdir -p "$dir/blocks" "$dir/root"
  if ! awk -v out="$dir/blocks" -f "$here/extract.awk" "$md" >"$dir/index" 2>"$dir/markup"; then
    echo "FAIL $name.md: bad docs-test markup:"
    sed 's/^/    /' "$dir/markup"
    failed=$((failed + 1))
    continue
  fi
  scratch "$dir/root"
  script=$dir/chapter.sh
  {
    echo 'set -euo pipefail'
    echo "cd '$dir/root'"
    echo 'export PATH="$PWD/build/host/tools/rvm:$PATH"'
    echo "export RVM_TESTDATA='${RVM_TESTDATA:-}'"
  } >"$script"
  while read -r kind n line rest; do
    case $kind in
      run)
        { echo "echo $n >'$dir/current'"
          echo "{"
          cat "$dir/blocks/$(printf %03d "$n").sh"
          echo "} >'$dir/out.$n' 2>&1 </dev/null"; } >>"$script" ;;
      skip)
        echo "skip $name.md:$line: $rest"
        skipped=$((skipped + 1)) ;;
    esac
  done <"$dir/index"
  echo "echo done >'$dir/current'" >>"$script"
  blocks=$(grep -c '^run ' "$dir/index" || true)
  if ! bash "$script" >"$dir/log" 2>&1 || [ "$(cat "$dir/current" 2>/dev/null)" != done ]; then
    n=$(cat "$dir/current" 2>/dev/null || echo 0)
    line=$(awk -v n="$n" '$1 == "run" && $2 == n { print $3 }' "$dir/index")
    echo "FAIL $name.md:$line: the shell block starting there failed; its output:"
    sed 's/^/    /' "$dir/out.$n" 2>/dev/null || cat "$dir/log"
    failed=$((failed + 1))
    continue
  fi
  bad=0
  while read -r kind n line rest; do
    [ "$kind" = expect ] || continue
    if ! check_expect "$dir/out.$n" "$dir/blocks/$(printf %03d "$n").expect"; then
      echo "FAIL $name.md:$line: the output of block $n does not match; it was:"
      sed 's/^/    /' "$dir/out.$n"
      bad=1
    fi
  done <"$dir/index"
  [ $bad = 0 ] || { failed=$((failed + 1)); continue; }
  ran=$((ran + blocks))
  echo "ok   $name.md: $blocks blocks"
done
[ $chapters -gt 0 ] || { echo "docs test: no chapter matches '$only'"; exit 1; }
echo "docs test: $chapters chapters, $ran blocks ran, $skipped skipped, $failed chapters failed"
[ $failed = 0 ]
