#!/usr/bin/env bash
# tests/e2e/sim_reduction.sh - rvm sim on the example traces: coherence placement cuts remote bytes
# by at least 40% versus naive on the clustered and shifting-teams traces; JSON keys are exact.
set -euo pipefail
: "${RVM_BIN:?RVM_BIN must name the rvm binary}"
: "${RVM_SOURCE:?RVM_SOURCE must name the source tree}"
TRACES=$RVM_SOURCE/examples/traces
fail() { echo "FAIL: $*" >&2; exit 1; }

# field JSON NAME -> the value of a numeric field of rvm sim's flat JSON object
field() { grep -o "\"$2\":[0-9]*" <<<"$1" | cut -d: -f2; }

KEYS='bytes degraded_epochs merges messages migrations mincut_p50_ns mincut_p99_ns remote_bytes splits'

run() { # run TRACE PLACEMENT NODES SLOTS -> JSON on stdout
  "$RVM_BIN" sim "$TRACES/$1.jsonl" --nodes "$3" --slots "$4" --placement "$2" --json
}

check_reduction() { # check_reduction TRACE NODES SLOTS
  local naive coh rn rc keys
  naive=$(run "$1" naive "$2" "$3")
  coh=$(run "$1" coherence "$2" "$3")
  keys=$(grep -o '"[a-z0-9_]*":' <<<"$coh" | tr -d '":' | sort | tr '\n' ' ')
  [ "$keys" = "$KEYS " ] || fail "$1: JSON keys are '$keys', expected '$KEYS'"
  [ "$(field "$naive" bytes)" = "$(field "$coh" bytes)" ] || fail "$1: byte totals differ"
  rn=$(field "$naive" remote_bytes)
  rc=$(field "$coh" remote_bytes)
  [ "$rn" -gt 0 ] || fail "$1: naive placement had no remote traffic to reduce"
  # coherence <= 60% of naive, i.e. at least a 40% reduction
  [ $((rc * 100)) -le $((rn * 60)) ] ||
    fail "$1: remote_bytes coherence $rc vs naive $rn is less than a 40% reduction"
  [ "$(field "$coh" merges)" -gt 0 ] || fail "$1: no merge happened"
  echo "ok: $1 remote_bytes naive $rn coherence $rc ($(( 100 - rc * 100 / rn ))% less)"
}

check_reduction clustered 4 10
check_reduction shifting_teams 4 10

# Shifting teams need splits (members leave), not only merges.
out=$(run shifting_teams coherence 4 10)
[ "$(field "$out" splits)" -gt 0 ] || fail "shifting_teams: no split"
# The trust drop forces a split even though the team still talks.
out=$(run trust_drop coherence 3 8)
[ "$(field "$out" splits)" -gt 0 ] || fail "trust_drop: no split"
# Naive and static never move anything.
for p in naive static; do
  out=$(run clustered $p 4 10)
  [ "$(field "$out" migrations)" = 0 ] || fail "$p moved agents"
done
# Deterministic: the same run twice gives the same placement counts.
a=$(run shifting_teams coherence 4 10 | sed 's/"mincut_p[0-9]*_ns":[0-9]*//g')
b=$(run shifting_teams coherence 4 10 | sed 's/"mincut_p[0-9]*_ns":[0-9]*//g')
[ "$a" = "$b" ] || fail "two runs differ: $a / $b"
# The human-readable form carries the same numbers.
txt=$("$RVM_BIN" sim "$TRACES/clustered.jsonl" --nodes 4 --slots 10 --placement coherence)
grep -q "^remote_bytes *$(field "$(run clustered coherence 4 10)" remote_bytes) " <<<"$txt" ||
  fail "text output disagrees with JSON: $txt"

# Coherence placement runs on real kernel partitions: the kernel witnessed the creates, splits
# and merges and refused none of the engine's decisions.
for t in clustered shifting_teams trust_drop; do
  n=4 s=10
  [ "$t" = trust_drop ] && n=3 s=8
  txt=$("$RVM_BIN" sim "$TRACES/$t.jsonl" --nodes $n --slots $s --placement coherence)
  line=$(grep '^kernel ' <<<"$txt") || fail "$t: no kernel line in: $txt"
  recs=$(awk '{print $2}' <<<"$line")
  [ "$recs" -gt 100 ] || fail "$t: only $recs witness records"
  grep -q ' 0 refusals$' <<<"$line" || fail "$t: the kernel refused decisions: $line"
done

# The committed traces are what the generator writes.
if command -v python3 >/dev/null; then
  tmp=$(mktemp -d /tmp/rvm-e2e-sim.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  python3 "$RVM_SOURCE/scripts/gen_traces.py" "$tmp"
  for f in "$TRACES"/*.jsonl; do
    cmp -s "$f" "$tmp/$(basename "$f")" || fail "$(basename "$f") differs from the generator's output"
  done
else
  echo "SKIP: python3 not installed, generator output not compared"
fi
echo "sim_reduction: all checks passed"
