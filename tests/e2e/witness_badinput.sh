#!/usr/bin/env bash
# tests/e2e/witness_badinput.sh - audit and query refuse bad input clearly (exit 2), never crash.
source "$(dirname "$0")/witness_lib.bash"

check2() { # check2 FILE PATTERN
  expect_rc 2 "$RVM_BIN" audit "$1" --trust-log-key
  grep -q "$2" <<<"$OUT" || fail "audit $1: expected '$2' in: $OUT"
  expect_rc 2 "$RVM_BIN" query "$1"
}

: > "$WORK/empty.log"
check2 "$WORK/empty.log" 'BAD INPUT: header: empty file'
head -c 5000 /dev/urandom > "$WORK/garbage.log"
check2 "$WORK/garbage.log" 'BAD INPUT: header: not a witness log'
printf 'RVM' > "$WORK/short.log"
check2 "$WORK/short.log" 'BAD INPUT: header'

expect_rc 0 "$RVM_BIN" run --out "$WORK/run" --unsigned
LOG=$WORK/run/witness.log
head -c 100 "$LOG" > "$WORK/trunc.log"
check2 "$WORK/trunc.log" 'file ends inside the header'

# Re-seal a header after editing it, as a newer writer would: the checksum holds.
reseal() { # reseal FILE
  local sum
  sum=$(head -c 120 "$1" | sha256sum | cut -c1-16)
  for i in 0 1 2 3 4 5 6 7; do
    put_byte "$1" $((120 + i)) $((16#${sum:$((2 * i)):2}))
  done
}
cp "$LOG" "$WORK/future.log"
put_byte "$WORK/future.log" 8 2
reseal "$WORK/future.log"
check2 "$WORK/future.log" 'format version newer'
cp "$LOG" "$WORK/huge.log"
put_byte "$WORK/huge.log" 10 255
put_byte "$WORK/huge.log" 11 255
reseal "$WORK/huge.log"
check2 "$WORK/huge.log" 'BAD INPUT: header'
cp "$LOG" "$WORK/unit.log"
put_byte "$WORK/unit.log" 13 128
reseal "$WORK/unit.log"
check2 "$WORK/unit.log" 'BAD INPUT: header'

# A good header followed by garbage is tampering at seq 0, not a crash.
{ head -c 128 "$LOG"; head -c 640 /dev/urandom; } > "$WORK/hdr-garbage.log"
expect_rc 1 "$RVM_BIN" audit "$WORK/hdr-garbage.log"
grep -q 'first bad seq 0 ' <<<"$OUT" || fail "garbage body: $OUT"

expect_rc 2 "$RVM_BIN" audit "$WORK/does-not-exist.log"
expect_rc 2 "$RVM_BIN" audit
expect_rc 2 "$RVM_BIN" audit "$LOG" --bogus
expect_rc 2 "$RVM_BIN" query "$LOG" --action no.such
expect_rc 2 "$RVM_BIN" query "$LOG" --from 10 --to 5
expect_rc 2 "$RVM_BIN" query "$LOG" --actor 99999999999
expect_rc 2 "$RVM_BIN" query "$LOG" --from 12parsecs
expect_rc 2 "$RVM_BIN" audit "$LOG" --pub "$WORK/garbage.log"
echo "witness_badinput: ok"
