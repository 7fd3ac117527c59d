#!/usr/bin/env bash
# tests/e2e/run_replay.sh - every agent of a run replays exactly: re-running each one from its
# journaled inputs reproduces the memory digests the live kernel recorded, at every one of them;
# an edited journal entry is caught by the witness record that binds it (and a single entry
# first by its own hash).
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
# Tampering (exit 1). Entry heads: kind at +12, flags at +14 (1: batched), len at +16, hash8 at
# +24. $1: journal, $2: "batch" (a batched RECV message) or "single" (a START), $3: "forge" to
# recompute the entry's hash8 after the change.
tamper() {
  python3 - "$@" <<'PY'
import hashlib, struct, sys
path, which, forge = sys.argv[1], sys.argv[2], len(sys.argv) > 3
b = bytearray(open(path, "rb").read())
o = 16
while o + 32 <= len(b):
    kind, flags = struct.unpack_from("<HH", b, o + 12)
    ln = struct.unpack_from("<I", b, o + 16)[0]
    if (which == "batch" and kind == 1 and ln > 4 and flags & 1) or \
       (which == "single" and kind == 5 and not flags & 1):
        b[o + 32 + 6] ^= 0x5a
        if forge:
            b[o + 24:o + 32] = hashlib.sha256(bytes(b[o + 32:o + 32 + ln])).digest()[:8]
        open(path, "wb").write(b)
        sys.exit(0)
    o += 32 + ((ln + 7) & ~7)
sys.exit("no such entry")
PY
}
# One changed byte in a message body: the record that binds its batch no longer matches.
cp -r "$WORK/trap" "$WORK/t1"
tamper "$WORK/t1/journal.log" batch
expect_rc 1 "$RVM_BIN" journal "$WORK/t1" --check
grep -q 'binding: entry at offset .*batch does not match the hash in its record' <<<"$OUT" ||
  fail "tampered message: $OUT"
# One changed byte in a single entry: its own hash; with the hash forged, its record.
cp -r "$WORK/trap" "$WORK/t2"
tamper "$WORK/t2/journal.log" single
expect_rc 1 "$RVM_BIN" journal "$WORK/t2" --check
grep -q 'payload does not match its hash' <<<"$OUT" || fail "tampered START: $OUT"
cp -r "$WORK/trap" "$WORK/t3"
tamper "$WORK/t3/journal.log" single forge
expect_rc 1 "$RVM_BIN" journal "$WORK/t3" --check
grep -q 'entry does not match its agent.hostcall record' <<<"$OUT" || fail "forged START: $OUT"
expect_rc 2 "$RVM_BIN" journal "$WORK/nowhere"
expect_rc 2 "$RVM_BIN" journal
echo "run_replay: ok"
