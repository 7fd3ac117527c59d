#!/usr/bin/env bash
# tests/e2e/run_replay.sh - every agent of a run replays exactly: re-running each one from its
# journaled inputs reproduces the memory digests the live kernel recorded, at every one of them;
# an edited journal entry is caught.
source "$(dirname "$0")/run_lib.bash"

for name in teams trap; do
  MANIFEST=$([ $name = trap ] && trap_variant) run_manifest $name 2.5 --cpus 2
  expect_rc 0 "$RVM_BIN" journal "$WORK/$name" --check
  grep -q 'digests over .* agent lives match the live run' <<<"$OUT" || fail "$name: $OUT"
  n=$(sed -n 's/^replay: \([0-9]*\) digests.*/\1/p' <<<"$OUT")
  [ "$n" -ge 3 ] || fail "$name: only $n digests checked: $OUT"
done
# Sensor, sink and the lives of the trapping agent: each restarts from its own START and
# ends in a digest taken at its trap.
lives=$(sed -n 's/.* over \([0-9]*\) agent lives.*/\1/p' <<<"$OUT")
[ "$lives" -ge 5 ] || fail "trap: $lives lives replayed"
# One changed byte in a message body: its hash no longer matches (exit 1).
J=$WORK/trap/journal.log
off=$(python3 - "$J" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
o = 16
while o + 32 <= len(b):
    kind = struct.unpack_from("<H", b, o + 12)[0]
    ln = struct.unpack_from("<I", b, o + 16)[0]
    if kind == 1 and ln > 4:
        print(o + 32 + 6)
        break
    o += 32 + ((ln + 7) & ~7)
PY
)
printf '\x77' | dd of="$J" bs=1 seek="$off" conv=notrunc status=none
expect_rc 1 "$RVM_BIN" journal "$WORK/trap" --check
grep -q 'payload does not match its hash' <<<"$OUT" || fail "tampered journal: $OUT"
expect_rc 2 "$RVM_BIN" journal "$WORK/nowhere"
expect_rc 2 "$RVM_BIN" journal
echo "run_replay: ok"
