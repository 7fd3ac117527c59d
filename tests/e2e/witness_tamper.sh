#!/usr/bin/env bash
# tests/e2e/witness_tamper.sh - rvm audit finds every flipped bit, swap, drop, insert and truncation exactly.
source "$(dirname "$0")/witness_lib.bash"

hmac_key "$WORK/h.key"
expect_rc 0 "$RVM_BIN" run --out "$WORK/run" --hmac-key "$WORK/h.key" --checkpoint-every 16 \
  --stress-sync 12
LOG=$WORK/run/witness.log
audit() { "$RVM_BIN" audit "$1" --hmac-key "$WORK/h.key"; }
expect_rc 0 audit "$LOG"
grep -q '^verdict: OK' <<<"$OUT" || fail "clean log: $OUT"
grep -q 'clean: shutdown checkpoint' <<<"$OUT" || fail "clean end not reported"
unit_map "$LOG"
[ "$NUNITS" -gt 40 ] || fail "log too small: $NUNITS units"
size=$(stat -c %s "$LOG")

# Flipped bits: header -> header finding; record -> its seq; signature block -> its checkpoint.
# About 150 flips spread over the file; the odd step moves the bit and byte within units.
checked=0 step=$(( (size / 150) | 1 ))
for ((off = 3; off < size; off += step)); do
  cp "$LOG" "$WORK/t.log"
  flip_bit "$WORK/t.log" $off $((off % 8))
  expect_rc 1 audit "$WORK/t.log"
  if [ $off -lt 128 ]; then
    grep -q 'verdict: TAMPERED: header' <<<"$OUT" || fail "header bit $off: $OUT"
  else
    u=$(( (off - 128) / 64 ))
    grep -q "first bad seq ${UNIT_SEQ[$u]} at byte\|first bad seq ${UNIT_SEQ[$u]}: signature" \
      <<<"$OUT" || fail "byte $off (unit $u, seq ${UNIT_SEQ[$u]}): $OUT"
    if [ "${UNIT_SIG[$u]}" = 1 ]; then
      grep -q 'signature block of checkpoint' <<<"$OUT" || fail "sig block $off: $OUT"
    fi
  fi
  checked=$((checked + 1))
done
echo "flipped $checked bits, each found at the right place"

# Swap units 5 and 6 (records 5 and 6: no checkpoint before seq 16).
[ "${UNIT_SIG[5]}${UNIT_SIG[6]}" = 00 ] || fail "unexpected layout"
{ blocks "$LOG" 0 7; blocks "$LOG" 8 1; blocks "$LOG" 7 1; blocks "$LOG" 9; } > "$WORK/swap.log"
expect_rc 1 audit "$WORK/swap.log"
grep -q 'first bad seq 5 ' <<<"$OUT" || fail "swap: $OUT"

# Drop record 9.
{ blocks "$LOG" 0 11; blocks "$LOG" 12; } > "$WORK/drop.log"
expect_rc 1 audit "$WORK/drop.log"
grep -q 'first bad seq 9 ' <<<"$OUT" || fail "drop: $OUT"

# Insert a copy of record 3 after itself.
{ blocks "$LOG" 0 6; blocks "$LOG" 5; } > "$WORK/ins.log"
expect_rc 1 audit "$WORK/ins.log"
grep -q 'first bad seq 4 ' <<<"$OUT" || fail "insert: $OUT"

# Truncated mid-record: torn tail, exit 0, not tampering.
dd if="$LOG" of="$WORK/torn.log" bs=1 count=$((128 + 20 * 64 + 17)) status=none
expect_rc 0 audit "$WORK/torn.log"
grep -q "torn tail: 17 bytes ignored after seq $((UNIT_SEQ[19]))" <<<"$OUT" || fail "torn: $OUT"
grep -q 'NOT CLEAN' <<<"$OUT" || fail "torn log reported clean"
expect_rc 1 "$RVM_BIN" audit "$WORK/torn.log" --hmac-key "$WORK/h.key" --require-clean

# Truncated at a unit boundary: no torn bytes, but an unpinned tail, never clean.
blocks "$LOG" 0 24 > "$WORK/cut.log"
expect_rc 0 audit "$WORK/cut.log"
grep -q 'unpinned tail of' <<<"$OUT" || fail "cut: $OUT"

# Checkpoint record without its signature block.
for ((u = 0; u < NUNITS; u++)); do [ "${UNIT_SIG[$u]}" = 1 ] && break; done
blocks "$LOG" 0 $((u + 2)) > "$WORK/nosig.log"
expect_rc 0 audit "$WORK/nosig.log"
grep -q "checkpoint seq ${UNIT_SEQ[$u]} lacks its signature block" <<<"$OUT" || fail "nosig: $OUT"

# The wrong HMAC key fails at the header.
hmac_key "$WORK/other.key"
expect_rc 1 "$RVM_BIN" audit "$LOG" --hmac-key "$WORK/other.key"
grep -q 'TAMPERED: header' <<<"$OUT" || fail "other key: $OUT"
# The seed profile's FNV-1a chain: same file, same findings.
expect_rc 0 "$RVM_BIN" run --out "$WORK/fnv" --chain fnv1a64 --hmac-key "$WORK/h.key" \
  --checkpoint-every 8 --stress-sync 2
expect_rc 0 audit "$WORK/fnv/witness.log"
grep -q 'chain fnv1a64' <<<"$OUT" || fail "fnv: $OUT"
unit_map "$WORK/fnv/witness.log"
flip_bit "$WORK/fnv/witness.log" $((128 + 5 * 64 + 35)) 6
expect_rc 1 audit "$WORK/fnv/witness.log"
grep -q "first bad seq ${UNIT_SEQ[5]} " <<<"$OUT" || fail "fnv flip: $OUT"
echo "witness_tamper: ok"
