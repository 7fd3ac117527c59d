#!/usr/bin/env bash
# tests/e2e/audit_json.sh - `rvm audit --json`: one parseable object per outcome, same exit status as the text form.
source "$(dirname "$0")/witness_lib.bash"

# field JSON PATH: prints one value of a JSON object (dotted path), via python3's json module.
field() {
  python3 -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): v=v[k]
print(str(v).lower() if isinstance(v,bool) else v)' "$1" "$2"
}

# json_rc WANT ARGS...: rvm audit ARGS --json; its stdout alone in $OUT (stderr may explain).
json_rc() {
  local want=$1 rc=0
  shift
  OUT=$("$RVM_BIN" audit "$@" --json 2>/dev/null) || rc=$?
  [ "$rc" = "$want" ] || fail "'rvm audit $* --json' exited $rc, expected $want: $OUT"
}

expect_rc 0 "$RVM_BIN" run --out "$WORK/run" --checkpoint-every 4 --stress-sync 3
LOG=$WORK/run/witness.log
json_rc 0 "$LOG"
[ "$(wc -l <<<"$OUT")" = 1 ] || fail "--json printed more than one line: $OUT"
[ "$(field "$OUT" verdict)" = OK ] || fail "verdict: $OUT"
[ "$(field "$OUT" clean)" = true ] || fail "clean: $OUT"
[ "$(field "$OUT" format.signatures)" = ed25519 ] || fail "format: $OUT"
[ "$(field "$OUT" key_trusted)" = true ] || fail "key_trusted: $OUT"
records=$(field "$OUT" records)
text=$("$RVM_BIN" audit "$LOG")
grep -q "records      $records verified" <<<"$text" || fail "record count differs from text: $text"
[ "$(field "$OUT" signatures_verified)" -ge 2 ] || fail "signatures: $OUT"

# A flipped bit in a record: TAMPERED with the exact seq and byte offset, exit 1.
cp "$LOG" "$WORK/t.log"
cp "$WORK/run/witness.pub" "$WORK/witness.pub"
flip_bit "$WORK/t.log" $((128 + 3 * 64 + 40)) 2
json_rc 1 "$WORK/t.log"
[ "$(field "$OUT" verdict)" = TAMPERED ] || fail "tampered verdict: $OUT"
[ "$(field "$OUT" error.code)" = RVM_E_TAMPER ] || fail "tampered code: $OUT"
[ "$(field "$OUT" error.byte_offset)" = $((128 + 3 * 64)) ] || fail "offset: $OUT"
seq=$(field "$OUT" error.first_bad_seq)
text=$("$RVM_BIN" audit "$WORK/t.log" || true)
grep -q "first bad seq $seq at byte" <<<"$text" || fail "text and JSON disagree: $text / $OUT"

# Cut at a unit boundary: OK but not clean; --require-clean makes it exit 1 with NOT CLEAN.
head -c $((128 + 10 * 64)) "$LOG" >"$WORK/cut.log"
json_rc 0 "$WORK/cut.log"
[ "$(field "$OUT" clean)" = false ] || fail "cut log clean: $OUT"
json_rc 1 "$WORK/cut.log" --require-clean
[ "$(field "$OUT" verdict)" = "NOT CLEAN" ] || fail "require-clean: $OUT"

# Bad input: unreadable file, not a log, a key of the wrong kind: exit 2 with an error object.
json_rc 2 "$WORK/missing.log"
[ "$(field "$OUT" error.code)" = RVM_E_IO ] || fail "missing: $OUT"
head -c 300 /dev/urandom >"$WORK/noise.log"
json_rc 2 "$WORK/noise.log" --trust-log-key
[ "$(field "$OUT" verdict)" = "BAD INPUT" ] || fail "noise: $OUT"
json_rc 2 "$LOG" --pub "$LOG"
[ "$(field "$OUT" verdict)" = "BAD INPUT" ] || fail "bad key file: $OUT"
echo "audit_json: ok"
