#!/usr/bin/env bash
# tests/e2e/witness_crash.sh - kill -9 a writer mid-stream: the log audits clean up to every acknowledged seq.
source "$(dirname "$0")/witness_lib.bash"

hmac_key "$WORK/h.key"
for iter in 1 2 3 4 5 6; do
  dir=$WORK/run$iter
  "$RVM_BIN" run --out "$dir" --hmac-key "$WORK/h.key" --checkpoint-every 50 --stress-sync 0 \
    > "$WORK/out$iter" 2>&1 &
  pid=$!
  # Once the writer has acknowledged something (sanitizer builds start slowly, a loaded
  # machine more so: up to 60 s, the loop ends at the first ack), kill it at a random moment
  # 0 to 399 ms later.
  for _ in $(seq 1200); do
    grep -q '^durable ' "$WORK/out$iter" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break # it exited: the check below says why
    sleep 0.05
  done
  sleep "$(printf 0.%03d $((RANDOM % 400)))"
  kill -9 $pid
  wait $pid 2>/dev/null || true
  acked=$(grep '^durable ' "$WORK/out$iter" | tail -1 | cut -d' ' -f2 || true)
  [ -n "$acked" ] || fail "iteration $iter: the writer never acknowledged a sync: $(cat "$WORK/out$iter")"
  expect_rc 0 "$RVM_BIN" audit "$dir/witness.log" --hmac-key "$WORK/h.key"
  grep -q TAMPERED <<<"$OUT" && fail "crash reported as tampering: $OUT"
  verified=$(sed -n 's/^  records      \([0-9]*\) verified.*/\1/p' <<<"$OUT")
  [ -n "$verified" ] && [ "$verified" -ge "$acked" ] ||
    fail "iteration $iter: acknowledged $acked durable records, audit verified '${verified}': $OUT"
  grep -q 'NOT CLEAN' <<<"$OUT" || fail "a killed writer's log reported clean"
  echo "iteration $iter: acknowledged $acked, verified $verified, $(grep -c . "$WORK/out$iter") syncs"
done
echo "witness_crash: ok"
