#!/usr/bin/env bash
# tests/e2e/sim_badinput.sh - rvm sim refuses bad traces and arguments with exit 2 and the line number.
set -euo pipefail
: "${RVM_BIN:?RVM_BIN must name the rvm binary}"
WORK=$(mktemp -d /tmp/rvm-e2e-sim.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

expect_rc() { # expect_rc WANT CMD...: keeps stdout+stderr in $OUT
  local want=$1 rc=0
  shift
  OUT=$("$@" 2>&1) || rc=$?
  [ "$rc" = "$want" ] || { echo "$OUT" >&2; fail "'$*' exited $rc, expected $want"; }
}

GOOD='{"t_us":0,"op":"spawn","agent":"a1"}
{"t_us":0,"op":"spawn","agent":"a2"}
{"t_us":5,"op":"send","from":"a1","to":"a2","bytes":512}'

bad() { # bad LINE3 EXPECTED-TEXT: a trace whose third line is LINE3 must fail naming line 3
  printf '%s\n%s\n%s\n' "$(sed -n 1p <<<"$GOOD")" "$(sed -n 2p <<<"$GOOD")" "$1" > "$WORK/t.jsonl"
  expect_rc 2 "$RVM_BIN" sim "$WORK/t.jsonl" --nodes 1 --slots 2 --placement coherence
  grep -q "t.jsonl:3: .*$2" <<<"$OUT" || fail "line '$1': expected ':3: ...$2' in: $OUT"
}

bad 'not json' 'not a JSON object'
bad '[1,2]' 'not a JSON object'
bad '{"op":"spawn","agent":"a3"}' 't_us: missing field'
bad '{"t_us":-1,"op":"spawn","agent":"a3"}' 't_us: field must be a whole number'
bad '{"t_us":1.5,"op":"spawn","agent":"a3"}' 't_us: field must be a whole number'
bad '{"t_us":1,"op":"fly","agent":"a3"}' 'op: unknown op'
bad '{"t_us":1,"op":"spawn","agent":"a1"}' 'already alive'
bad '{"t_us":1,"op":"spawn","agent":""}' 'agent: field must be a non-empty string'
bad '{"t_us":1,"op":"spawn","agent":7}' 'agent: field must be a non-empty string'
bad '{"t_us":1,"op":"send","from":"a1","to":"zz","bytes":1}' 'to: no such agent alive'
bad '{"t_us":1,"op":"send","from":"a1","to":"a2"}' 'bytes: missing field'
bad '{"t_us":1,"op":"send","from":"a1","to":"a2","bytes":99999999999}' 'bytes: field must be'
bad '{"t_us":1,"op":"trust","agent":"a1","level":101}' 'level: field must be'
bad '{"t_us":1,"op":"exit","agent":"nobody"}' 'agent: no such agent alive'
bad '{"t_us":1,"op":"spawn","agent":"a3"}' 'no free slot'
# Time going backwards (line 3 is before line 2's time).
printf '%s\n%s\n%s\n' '{"t_us":9,"op":"spawn","agent":"a1"}' '{"t_us":10,"op":"spawn","agent":"a2"}' \
  '{"t_us":3,"op":"exit","agent":"a1"}' > "$WORK/t.jsonl"
expect_rc 2 "$RVM_BIN" sim "$WORK/t.jsonl" --nodes 2 --slots 2 --placement naive
grep -q 't.jsonl:3: t_us: time goes backwards' <<<"$OUT" || fail "backwards time: $OUT"

# Arguments.
printf '%s\n' "$GOOD" > "$WORK/good.jsonl"
expect_rc 0 "$RVM_BIN" sim "$WORK/good.jsonl" --nodes 2 --slots 2 --placement naive --json
grep -q '"remote_bytes":512' <<<"$OUT" || fail "naive puts a1 and a2 on two nodes: $OUT"
expect_rc 0 "$RVM_BIN" sim "$WORK/good.jsonl" --nodes 2 --slots 2 --placement static --json
grep -q '"remote_bytes":0' <<<"$OUT" || fail "static packs a1 and a2 on node 0: $OUT"
expect_rc 2 "$RVM_BIN" sim "$WORK/good.jsonl" --nodes 2 --slots 2
expect_rc 2 "$RVM_BIN" sim "$WORK/good.jsonl" --nodes 0 --slots 2 --placement naive
expect_rc 2 "$RVM_BIN" sim "$WORK/good.jsonl" --nodes x --slots 2 --placement naive
expect_rc 2 "$RVM_BIN" sim "$WORK/good.jsonl" --nodes 2 --slots 2 --placement magic
expect_rc 2 "$RVM_BIN" sim "$WORK/missing.jsonl" --nodes 2 --slots 2 --placement naive
expect_rc 2 "$RVM_BIN" sim "$WORK/good.jsonl" --nodes 999 --slots 2 --placement naive
# Random bytes: a clean refusal, never a crash.
head -c 4096 /dev/urandom > "$WORK/garbage.jsonl"
rc=0
"$RVM_BIN" sim "$WORK/garbage.jsonl" --nodes 2 --slots 2 --placement coherence >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "garbage trace exited $rc, expected 2"
echo "sim_badinput: all checks passed"
