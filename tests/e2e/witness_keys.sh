#!/usr/bin/env bash
# tests/e2e/witness_keys.sh - rvm keygen / run --key / audit --pub: the trusted key decides, and says so.
source "$(dirname "$0")/witness_lib.bash"

# keygen: secret key mode 0600, public key readable, both in the documented format.
expect_rc 0 "$RVM_BIN" keygen --out "$WORK/k1"
[ "$(stat -c %a "$WORK/k1.key")" = 600 ] || fail "secret key mode $(stat -c %a "$WORK/k1.key")"
[ "$(head -1 "$WORK/k1.key")" = RVM-ED25519-SECRET-KEY ] || fail "secret key kind"
[ "$(head -1 "$WORK/k1.pub")" = RVM-ED25519-PUBLIC-KEY ] || fail "public key kind"
[ "$(sed -n 2p "$WORK/k1.key" | tr -d '\n' | wc -c)" = 128 ] || fail "secret key length"
[ "$(sed -n 2p "$WORK/k1.key" | cut -c65-)" = "$(sed -n 2p "$WORK/k1.pub")" ] ||
  fail "secret key must end with its public key"
expect_rc 0 "$RVM_BIN" keygen --out "$WORK/k2"
expect_rc 2 "$RVM_BIN" keygen

# A run signed with k1: witness.pub is k1.pub, run.txt names it, audit trusts it by default.
expect_rc 0 "$RVM_BIN" run --out "$WORK/r1" --key "$WORK/k1.key" --checkpoint-every 4 --stress-sync 3
cmp -s "$WORK/r1/witness.pub" "$WORK/k1.pub" || fail "witness.pub is not k1.pub"
grep -q "signing_key $(sed -n 2p "$WORK/k1.pub")" "$WORK/r1/run.txt" || fail "run.txt: $(cat "$WORK/r1/run.txt")"
expect_rc 0 "$RVM_BIN" audit "$WORK/r1/witness.log"
grep -q "trusted ed25519 public key $(sed -n 2p "$WORK/k1.pub" | cut -c1-16) from $WORK/r1/witness.pub" \
  <<<"$OUT" || fail "audit must say which key it trusted: $OUT"
grep -q 'verdict: OK' <<<"$OUT" || fail "$OUT"
expect_rc 0 "$RVM_BIN" audit "$WORK/r1/witness.log" --pub "$WORK/k1.pub"

# Against another expected key: the log fails.
expect_rc 1 "$RVM_BIN" audit "$WORK/r1/witness.log" --pub "$WORK/k2.pub"
grep -q 'TAMPERED: header' <<<"$OUT" || fail "wrong key: $OUT"

# The same log re-signed with k2 (a second run, witness.pub swapped in) fails against k1.
expect_rc 0 "$RVM_BIN" run --out "$WORK/r2" --key "$WORK/k2.key" --checkpoint-every 4 --stress-sync 3
expect_rc 1 "$RVM_BIN" audit "$WORK/r2/witness.log" --pub "$WORK/k1.pub"
# Put k1 into the re-signed log's header (re-sealed): now the signatures themselves fail.
cp "$WORK/r2/witness.log" "$WORK/forged.log"
pk=$(sed -n 2p "$WORK/k1.pub")
for i in $(seq 0 31); do put_byte "$WORK/forged.log" $((80 + i)) $((16#${pk:$((2 * i)):2})); done
sum=$(head -c 120 "$WORK/forged.log" | sha256sum | cut -c1-16)
for i in 0 1 2 3 4 5 6 7; do put_byte "$WORK/forged.log" $((120 + i)) $((16#${sum:$((2 * i)):2})); done
expect_rc 1 "$RVM_BIN" audit "$WORK/forged.log" --pub "$WORK/k1.pub"
grep -q 'signature block of checkpoint' <<<"$OUT" || fail "forged header: $OUT"

# Default run: a fresh key pair per run; the public half is in the run dir and verifies.
expect_rc 0 "$RVM_BIN" run --out "$WORK/r3"
expect_rc 0 "$RVM_BIN" run --out "$WORK/r4"
cmp -s "$WORK/r3/witness.pub" "$WORK/r4/witness.pub" && fail "two runs share a key"
expect_rc 0 "$RVM_BIN" audit "$WORK/r3/witness.log" --require-clean
expect_rc 1 "$RVM_BIN" audit "$WORK/r3/witness.log" --pub "$WORK/r4/witness.pub"
# No witness.pub: audit refuses to guess, unless told to trust the log's own key.
rm "$WORK/r3/witness.pub"
expect_rc 2 "$RVM_BIN" audit "$WORK/r3/witness.log"
expect_rc 0 "$RVM_BIN" audit "$WORK/r3/witness.log" --trust-log-key
grep -q UNTRUSTED <<<"$OUT" || fail "untrusted key must be flagged: $OUT"

# Downgrades: an unsigned log where a key is expected is a finding.
expect_rc 0 "$RVM_BIN" run --out "$WORK/r5" --unsigned
cp "$WORK/k1.pub" "$WORK/r5/witness.pub"
expect_rc 1 "$RVM_BIN" audit "$WORK/r5/witness.log"
grep -q downgrade <<<"$OUT" || grep -q "log says its signatures are 'none'" <<<"$OUT" || fail "$OUT"

# A secret key whose halves do not belong together is refused.
sed "2s/^\(.\{70\}\)./\1$( [ "$(sed -n 2p "$WORK/k1.key" | cut -c71)" = 0 ] && echo 1 || echo 0)/" \
  "$WORK/k1.key" > "$WORK/bad.key"
expect_rc 2 "$RVM_BIN" run --out "$WORK/r6" --key "$WORK/bad.key"
echo "witness_keys: ok"
