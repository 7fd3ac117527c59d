#!/usr/bin/env bash
# tests/e2e/replay_swarm.sh - `rvm replay` on `rvm run` output rebuilds each partition's agents
# (from their nearest snapshot plus the journal) and matches every digest recorded live, over
# several seqs and partitions of a run with traps and recoveries and of one with splits/merges.
source "$(dirname "$0")/run_lib.bash"

digest_parts() { # partitions with recovery.digest records in run $1
  "$RVM_BIN" query "$WORK/$1/witness.log" --pub "$WORK/$1/witness.pub" --action recovery.digest |
    awk 'NR > 1 { print $6 }' | sort -un
}

for name in trap teams; do
  MANIFEST=$([ $name = trap ] && trap_variant || echo "$RVM_SOURCE/examples/$name.json") \
    run_manifest $name 3 --cpus 2
  parts=$(digest_parts $name)
  [ -n "$parts" ] || fail "$name: no recovery.digest records"
  nparts=0 total=0
  for p in $parts; do
    expect_rc 0 "$RVM_BIN" replay "$WORK/$name" --partition "$p" --check
    n=$(sed -n 's/.*: \([0-9]*\) live digests checked (\([0-9]*\) agent states.*/\1 \2/p' <<<"$OUT")
    read -r dn an <<<"$n"
    [ "${dn:-0}" -ge 1 ] && [ "${an:-0}" -ge 1 ] || fail "$name partition $p: $OUT"
    grep -q ' 0 differ' <<<"$OUT" || fail "$name partition $p: $OUT"
    nparts=$((nparts + 1)) total=$((total + dn))
    # One chosen seq, shown: every agent matches its live digest, and so does the partition.
    seq=$("$RVM_BIN" query "$WORK/$name/witness.log" --pub "$WORK/$name/witness.pub" \
      --action recovery.digest | awk -v p="$p" 'NR > 1 && $6 == p { s = $1 } END { print s }')
    expect_rc 0 "$RVM_BIN" replay "$WORK/$name" --partition "$p" --seq "$seq"
    grep -q 'live digest recorded at this seq: match' <<<"$OUT" || fail "$name $p@$seq: $OUT"
    grep -q 'memory sha256 .* (live: match)' <<<"$OUT" || fail "$name $p@$seq: $OUT"
  done
  echo "$name: $total live digests over $nparts partitions rebuilt with their agents"
  [ "$total" -ge 2 ] || fail "$name: only $total digests"
done
# A crash between a checkpoint's record and its write (the store writes off the kernel lock):
# its file is not there. Replay starts from the one before and still matches every live digest
# (the one taken away is a partition's last but one: the digests after it needed it).
cp -r "$WORK/trap" "$WORK/crash"
crashed=0
for p in $(digest_parts crash); do
  gone=$(ls "$WORK/crash/checkpoints/" | grep -i "^43$(printf '%04x' "$p")" | sort | tail -2 |
    head -1)
  [ -n "$gone" ] || continue
  rm "$WORK/crash/checkpoints/$gone"
  crashed=$((crashed + 1))
  expect_rc 0 "$RVM_BIN" replay "$WORK/crash" --partition "$p" --check
  grep -q ' 0 differ' <<<"$OUT" || fail "crash partition $p: $OUT"
done
[ "$crashed" -ge 1 ] || fail "crash: no checkpoint file to take away"
expect_rc 0 "$RVM_BIN" audit "$WORK/crash/witness.log" --pub "$WORK/crash/witness.pub"
# The trap run resumed agents from snapshots; checkpoints edited after the fact are caught.
for ck in "$WORK/trap/checkpoints/"*.ckpt; do
  printf '\x55' | dd of="$ck" bs=1 seek=200 conv=notrunc status=none
done
rc=0
for p in $(digest_parts trap); do
  "$RVM_BIN" replay "$WORK/trap" --partition "$p" --check >/dev/null 2>&1 || rc=$?
done
[ "$rc" -ne 0 ] || fail "an edited checkpoint went unnoticed"
echo "replay_swarm: ok"
