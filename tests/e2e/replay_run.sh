#!/usr/bin/env bash
# tests/e2e/replay_run.sh - `rvm replay` and `rvm query --changed` on the run directory `rvm run`
# writes: they read its verified log and journal, answer, and refuse bad requests plainly.
source "$(dirname "$0")/run_lib.bash"

run_manifest trap 1 --cpus 2
dir="$WORK/trap"
expect_rc 0 "$RVM_BIN" audit "$dir/witness.log" --pub "$dir/witness.pub"
records=$(grep -oE 'records +[0-9]+ verified' <<<"$OUT" | grep -oE '[0-9]+' | head -1)
[ -n "$records" ] && [ "$records" -gt 10 ] || fail "no record count in: $OUT"
last=$((records - 1))
expect_rc 0 "$RVM_BIN" replay "$dir" --partition 1 --seq "$last"
grep -q "partition 1 at seq $last" <<<"$OUT" || fail "replay summary: $OUT"
grep -qE 'digest [0-9a-f]{64}' <<<"$OUT" || fail "replay digest: $OUT"
expect_rc 0 "$RVM_BIN" replay "$dir" --partition 1 --seq "$last" --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["seq"] == int(sys.argv[2])' \
  "$OUT" "$last" || fail "replay --json: $OUT"
# Bad requests: exit 2 with the error named, never a crash.
expect_rc 2 "$RVM_BIN" replay "$dir" --partition 1 --seq "$records"
grep -q RVM_E_RANGE <<<"$OUT" || fail "seq past the end: $OUT"
expect_rc 2 "$RVM_BIN" replay "$dir" --partition 99999 --seq 1
expect_rc 2 "$RVM_BIN" replay "$dir" --partition 1
expect_rc 2 "$RVM_BIN" replay "$WORK/nonexistent" --partition 1 --seq 1
# This run recorded no partition digests: --check says so instead of passing vacuously.
expect_rc 2 "$RVM_BIN" replay "$dir" --partition 1 --check
grep -q RVM_E_NOTFOUND <<<"$OUT" || fail "--check without digests: $OUT"
# A journal that is not one is refused.
cp -r "$dir" "$WORK/bad"
printf 'garbage-garbage-garbage' >"$WORK/bad/journal.log"
expect_rc 2 "$RVM_BIN" replay "$WORK/bad" --partition 1 --seq 1
grep -q RVM_E_FORMAT <<<"$OUT" || fail "bad journal: $OUT"
# query --changed on a region id nobody touched: an empty answer, not an error.
expect_rc 0 "$RVM_BIN" query "$dir/witness.log" --pub "$dir/witness.pub" --changed 0x500000007 --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["agents"] == [] and d["changes"] == []' \
  "$OUT" || fail "query --changed: $OUT"
echo "replay_run: ok"
