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
# Which partitions recorded live digests depends on how far the 1 s run got (checkpoints come
# with epochs and recoveries), so the log says: a partition without any makes --check say so
# instead of passing vacuously; one with some (if any) has each of them checked.
expect_rc 0 "$RVM_BIN" query "$dir/witness.log" --pub "$dir/witness.pub" --action recovery.digest --json
digests=$(python3 -c 'import json,sys; print(" ".join(str(r["target"]) for r in json.load(sys.stdin) if r["flags"] == 0))' <<<"$OUT") ||
  fail "query recovery.digest: $OUT"
none=1
while grep -qw "$none" <<<"$digests"; do none=$((none + 1)); done
expect_rc 2 "$RVM_BIN" replay "$dir" --partition "$none" --check
grep -q "RVM_E_NOTFOUND: no recovery.digest record for partition $none" <<<"$OUT" ||
  fail "--check without digests: $OUT"
if [ -n "$digests" ]; then
  p=${digests%% *}
  n=$(tr ' ' '\n' <<<"$digests" | grep -cx "$p")
  expect_rc 0 "$RVM_BIN" replay "$dir" --partition "$p" --check
  grep -q "partition $p: $n live digests checked (.*), 0 differ" <<<"$OUT" || fail "--check of $p: $OUT"
fi
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
