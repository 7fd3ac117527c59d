#!/usr/bin/env bash
# tests/e2e/witness_query.sh - rvm query filters (AND), time windows, table and JSON output.
source "$(dirname "$0")/witness_lib.bash"

hmac_key "$WORK/h.key"
expect_rc 0 "$RVM_BIN" run --out "$WORK/run" --hmac-key "$WORK/h.key" --stress-sync 8
LOG=$WORK/run/witness.log
q() { "$RVM_BIN" query "$LOG" --hmac-key "$WORK/h.key" "$@"; }

expect_rc 0 q --json
all=$OUT
total=$(grep -c '"seq"' <<<"$all")
[ "$total" -gt 20 ] || fail "too few records: $total"
# Every record, in order, as JSON that node parses.
node -e 'const a = JSON.parse(require("fs").readFileSync(0, "utf8"));
  a.forEach((r, i) => { if (r.seq !== i) throw new Error("seq " + r.seq + " at " + i); });
  for (const k of ["seq","time_ns","action","flags","actor","target","arg0","arg1"])
    if (!(k in a[0])) throw new Error("missing " + k);' <<<"$all" || fail "JSON: $all"

# --actor 3 --action ipc.send: exactly the matching rows of the full listing.
want=$(grep -c '"action": "ipc.send", "flags": 0, "actor": 3,' <<<"$all")
expect_rc 0 q --json --actor 3 --action ipc.send
got=$(grep -c '"seq"' <<<"$OUT")
[ "$want" -gt 0 ] && [ "$got" = "$want" ] || fail "actor filter: want $want got $got"
grep -v '"actor": 3,' <<<"$OUT" | grep -q '"seq"' && fail "a row with another actor: $OUT"

# --target with the table output: header plus matching rows only.
expect_rc 0 q --target 2 --action ipc.send
rows=$(tail -n +2 <<<"$OUT" | wc -l)
want=$(grep -c '"action": "ipc.send", "flags": 0, "actor": [0-9]*, "target": 2,' <<<"$all")
[ "$rows" = "$want" ] || fail "target filter: $rows rows, want $want"
head -1 <<<"$OUT" | grep -q 'seq.*time_ns.*action.*actor.*target' || fail "table header: $OUT"

# Time window: [t(5), t(10)] holds seq 5..10 (times are non-decreasing).
t5=$(sed -n 's/.*"seq": 5, "time_ns": \([0-9]*\),.*/\1/p' <<<"$all")
t10=$(sed -n 's/.*"seq": 10, "time_ns": \([0-9]*\),.*/\1/p' <<<"$all")
expect_rc 0 q --json --from "$t5" --to "$t10"
grep -q '"seq": 5,' <<<"$OUT" && grep -q '"seq": 10,' <<<"$OUT" || fail "window: $OUT"
grep -q '"seq": 11,' <<<"$OUT" && fail "window leaks seq 11"
# Units are accepted: everything lies within the first hour.
expect_rc 0 q --json --to 3600s
[ "$(grep -c '"seq"' <<<"$OUT")" = "$total" ] || fail "--to 3600s"
expect_rc 0 q --json --action boot.phase
[ "$(grep -c '"seq"' <<<"$OUT")" = 7 ] || fail "boot phases: $OUT"
expect_rc 0 q --json --action gpu.launch
[ "$OUT" = "[]" ] || fail "no match must print []: $OUT"

# A tampered log: rows before the bad seq, then exit 1 naming it.
cp "$LOG" "$WORK/t.log"
flip_bit "$WORK/t.log" $((128 + 7 * 64 + 30)) 2
expect_rc 1 "$RVM_BIN" query "$WORK/t.log" --hmac-key "$WORK/h.key"
grep -q 'first bad seq 7' <<<"$OUT" || fail "tampered query: $OUT"
echo "witness_query: ok"
