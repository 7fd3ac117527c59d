#!/usr/bin/env bash
# tests/qemu/boot.sh CASE - boots the bare-metal image under QEMU and checks its console and its
# streamed witness log. Exit 77 (skip) only when QEMU is not installed.
set -euo pipefail
case=${1:?usage: boot.sh CASE}
command -v qemu-system-aarch64 >/dev/null || {
  echo "SKIP: qemu-system-aarch64 not installed (Debian package qemu-system-arm)"; exit 77; }
[ -f "$RVM_QEMU_ELF" ] || { echo "FAIL: image $RVM_QEMU_ELF was not built"; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

# expect PATTERN...: every pattern must appear in the console capture.
expect() {
  for p in "$@"; do
    grep -qE -- "$p" "$out/qemu-console.txt" || { echo "FAIL: console lacks /$p/"; cat "$out/qemu-console.txt"; exit 1; }
  done
}
# clean: no panic or fatal message anywhere on the console.
clean() {
  if grep -E "PANIC|FATAL|unexpected" "$out/qemu-console.txt"; then echo "FAIL: the image reported an error"; exit 1; fi
}
# audit: the streamed log must verify with the host's rvm audit (or the core reader until then).
audit() {
  if "$RVM_BIN" help | grep -qE '^ +audit '; then
    # A key the image announced on the console is pinned by the host; unsigned logs have none.
    if [ -f "$out/qemu-witness.pub" ]; then
      "$RVM_BIN" audit "$out/qemu-witness.log" --pub "$out/qemu-witness.pub" --require-clean
    else
      "$RVM_BIN" audit "$out/qemu-witness.log" --trust-log-key --require-clean
    fi
  else
    "$RVM_QEMU_RUN" --verify "$out/qemu-witness.log"
  fi
}
# measured: the image's boot.phase 0x100 record must carry the SHA-256 of the ELF's code and
# constants as loaded (.text and .rodata, padded to the measured size).
measured() {
  local rec arg0 size want
  rec=$("$RVM_QEMU_RUN" --dump "$out/qemu-witness.log" | awk '$2 == "boot.phase" && $4 == "target=100" { print $5, $6 }')
  arg0=$(printf '%016x' "0x$(sed -E 's/^arg0=([0-9a-f]+) .*/\1/' <<<"$rec")")
  size=$(sed -E 's/.*arg1=([0-9a-f]+)$/\1/' <<<"$rec")
  aarch64-linux-gnu-objcopy -O binary --only-section=.text --only-section=.rodata "$RVM_QEMU_ELF" "$out/image.bin"
  truncate -s $((16#$size)) "$out/image.bin"
  want=$(sha256sum "$out/image.bin" | cut -c1-16 | fold -w2 | tac | tr -d '\n')
  [ "$want" = "$arg0" ] || { echo "FAIL: image measurement $arg0, the ELF gives $want"; exit 1; }
  echo "image measured: $arg0 over 0x$size bytes matches the ELF"
}
# The swarm stops itself within 14 s of machine time (board.c, RUN_MAX_MS); 30 s bound it all.
run() { "$RVM_QEMU_RUN" --elf "$RVM_QEMU_ELF" --out "$out" --timeout 30 "$@" | tee "$out/run.txt"; }

case $case in
boot_smp1|boot_smp4)
  n=${case#boot_smp}
  run --smp "$n"
  expect "RVM on qemu-virt, EL2, $n CPU\\(s\\)" "memory 40000000\\.\\.48000000 \\(128 MiB\\) from the device tree" \
    "first witness record" "boot complete: $n CPU\\(s\\) online, 11 partitions \\(7 guests, 4 of agents\\)" \
    "bare-metal demo swarm: 13 agents of 5 modules in 4 partitions, 60 channels" \
    "partition 1 \\(faulter\\) exited with 4 after 1 restart" \
    "partition 2 \\(counter\\) exited with 6" "partition 3 \\(counter\\) exited with 6" \
    "partition 4 \\(counter\\) exited with 6" "witness records streamed; shutdown via PSCI SYSTEM_OFF" \
    "partition 5 \\(regcheck\\) exited with 49374 after 0 restart\\(s\\)" \
    "partition 6 \\(fpcheck\\) exited with 61453 after 0 restart\\(s\\)" \
    "partition 7 \\(fpcheck\\) exited with 61453 after 0 restart\\(s\\)" \
    "kernel agents: [0-9]+ ms, 13 agents" "kernel agents: [0-9]+ messages/s on $n CPU\\(s\\)"
  [ "$n" = 1 ] || for c in $(seq 1 $((n - 1))); do expect "cpu $c online"; done
  for c in $(seq 0 $((n - 1))); do expect "cpu $c: [0-9]+ agent slices, .*kernel lock taken [0-9]+ times"; done
  expect "7 partitions destroyed through the gate; [0-9]+ gate operations allowed"
  clean
  "$RVM_QEMU_RUN" --dump "$out/qemu-witness.log" > "$out/records.txt"
  count() { awk -v a="$1" '$2 == a' "$out/records.txt" | wc -l; }
  # The full boot of the hosted kernel: seven phases, each measured and witnessed (genesis
  # right after the platform), then boot.complete carrying the attestation the console shows.
  phases=$(awk '$2 == "boot.phase" && $3 == "actor=0" && $4 ~ /^target=[1-7]$/ { sub("target=", "", $4); printf "%s", $4 }' "$out/records.txt")
  [ "$phases" = 1234567 ] || { echo "FAIL: kernel boot phases witnessed in order '$phases', want 1234567"; exit 1; }
  for p in 1:platform 2:witness 3:memory 4:capabilities 5:partitions 6:coherence 7:agents; do
    m=$(grep -oE "boot phase ${p%%:*} \\(${p#*:}\\) measured [0-9a-f]{16}" "$out/qemu-console.txt" | awk '{print $NF}')
    rec=$(awk -v t="target=${p%%:*}" '$2 == "boot.phase" && $4 == t { sub("arg1=", "", $6); print $6; exit }' "$out/records.txt")
    [ -n "$m" ] && [ "$((16#$m))" = "$((16#$rec))" ] || { echo "FAIL: phase $p measured '$m' on the console, '$rec' in the log"; exit 1; }
  done
  att=$(grep -oE "boot attestation [0-9a-f]{16} \\(7 phases measured" "$out/qemu-console.txt" | awk '{print $3}')
  rec=$(awk '$2 == "boot.complete" && $4 == "target=7" { sub("arg1=", "", $6); print $6 }' "$out/records.txt")
  [ -n "$att" ] && [ "$((16#$att))" = "$((16#$rec))" ] || { echo "FAIL: attestation '$att' on the console, boot.complete carries '$rec'"; exit 1; }
  echo "7 measured phases; attestation $att in boot.complete"
  # The swarm is the kernel's: 13 agents spawned by rvm_kernel_agent_spawn, coherence epochs,
  # the flaky filter's trap taking the kernel's F1 path, channels over kernel edges.
  [ "$(count agent.spawn)" = 13 ] || { echo "FAIL: $(count agent.spawn) agent.spawn records, want 13"; exit 1; }
  for a in coherence.epoch partition.split agent.trap ipc.send ipc.recv edge.create; do
    [ "$(count $a)" -ge 1 ] || { echo "FAIL: no $a record"; exit 1; }
  done
  trap_part=$(awk '$2 == "agent.trap" { print $3; exit }' "$out/records.txt")
  awk -v p="$trap_part" '$2 == "recovery.f1_restart_agent" && $3 == p' "$out/records.txt" | grep -q . ||
    { echo "FAIL: the agent's trap was not followed by an F1 restart"; exit 1; }
  # On one CPU the run goes on until the teams have come together again (a merge).
  [ "$n" != 1 ] || [ "$(count partition.merge)" -ge 1 ] || { echo "FAIL: no partition.merge on one CPU"; exit 1; }
  # The guests are the kernel's partitions too: created in its pool with a root cap, started,
  # suspended when their guest exits, VMIDs released, destroyed: every step witnessed.
  for a in partition.create partition.resume; do
    [ "$(count $a)" -ge 11 ] || { echo "FAIL: $(count $a) $a records, want >= 11"; exit 1; }
  done
  for a in partition.suspend partition.destroy; do
    [ "$(count $a)" -ge 7 ] || { echo "FAIL: $(count $a) $a records, want >= 7"; exit 1; }
  done
  grep -E "first witness record after [0-9.]+ ms" "$out/run.txt"
  grep -E "kernel agents|reshaping|cpu [0-9]: .*kernel lock" "$out/qemu-console.txt"
  audit
  measured
  ;;
stage2_fault)
  # One CPU, round robin: the faulter traps first; the counters must keep running after it.
  run --smp 1
  expect "partition 1 \\(faulter\\) fault on cpu 0: IPA 50000000 outside its stage-2 map" \
    "partition 1 F1 recovery: restart 1" "partition 1 \\(faulter\\) exited with 4 after 1 restart"
  clean
  "$RVM_QEMU_RUN" --dump "$out/qemu-witness.log" > "$out/records.txt"
  fault=$(awk '$2 == "recovery.fault" && $3 == "actor=1" && $4 == "target=50000000" { print $1; exit }' "$out/records.txt")
  f1=$(awk '$2 == "recovery.f1_restart_agent" && $4 == "target=1" { print $1; exit }' "$out/records.txt")
  [ -n "$fault" ] && [ -n "$f1" ] && [ "$f1" -gt "$fault" ] || { echo "FAIL: no FAULT then F1 records"; cat "$out/records.txt"; exit 1; }
  others=$(awk -v f="$fault" '$1 > f && $2 == "agent.hostcall" && $3 != "actor=1"' "$out/records.txt" | wc -l)
  # Guests 2..7 only: a kernel agent of the swarm (the flaky filter) may be stopped too.
  exits=$(awk -v f="$fault" '$1 > f && $2 == "agent.exit" && $3 ~ /^actor=[2-7]$/' "$out/records.txt" | wc -l)
  echo "after the fault: $others progress records and $exits exits from other partitions"
  # The tick may preempt the faulter before its bad store, so how many steps the others made
  # before the fault depends on timing; that all six ran on and finished after it does not.
  [ "$others" -ge 3 ] && [ "$exits" = 6 ] || { echo "FAIL: other partitions did not keep running"; exit 1; }
  # The counters spin for tens of millions of instructions: the 1 ms tick must have preempted them.
  grep -qE "cpu 0: .*[1-9][0-9]* timer preemptions" "$out/qemu-console.txt" || { echo "FAIL: no timer preemption"; exit 1; }
  audit
  ;;
twin)
  # The same deterministic scenario hosted and bare metal: the same records apart from time.
  run --smp 1 -- -append rvm.twin
  expect "twin scenario" "twin: 400 slices ran an agent" "twin agents: "
  clean
  audit
  "$RVM_QEMU_TWIN" "$out/hosted"
  # Header and every record, field by field; only time is skipped (record time, the chain
  # digests over it, boot.complete's and kernel.shutdown's arg0): the boot's measurements and
  # attestation included, as the twin's core is configured as the image's.
  "$RVM_QEMU_RUN" --twin "$out/qemu-witness.log" "$out/hosted/witness.log" ||
    { echo "FAIL: hosted and bare-metal witness sequences differ"; exit 1; }
  "$RVM_QEMU_RUN" --dump "$out/qemu-witness.log" | awk '/^[0-9]/' > "$out/bare.txt"
  n=$(wc -l < "$out/bare.txt")
  phases=$(awk '$2 == "boot.phase" && $3 == "actor=0" && $4 ~ /^target=[1-7]$/ { sub("target=", "", $4); printf "%s", $4 }' "$out/bare.txt")
  [ "$phases" = 1234567 ] || { echo "FAIL: the twin's boot phases are '$phases'"; exit 1; }
  for a in agent.spawn agent.trap recovery.f1_restart_agent agent.hostcall; do
    grep -q " $a " "$out/bare.txt" || { echo "FAIL: the scenario has no $a"; exit 1; }
  done
  # Agent messages are witnessed per run (epoch batches, journal batches), not per message.
  [ "$n" -gt 100 ] || { echo "FAIL: the scenario is too thin ($n records)"; exit 1; }
  # The journals (what replay reads) are the same too.
  cmp "$out/qemu-journal.log" "$out/hosted/journal.log" || { echo "FAIL: the journals differ"; exit 1; }
  # The comparison can fail: the same twin one slice short must be told apart, at a record.
  "$RVM_QEMU_TWIN" "$out/short" 399 > /dev/null
  rc=0; "$RVM_QEMU_RUN" --twin "$out/qemu-witness.log" "$out/short/witness.log" > "$out/short.txt" || rc=$?
  cat "$out/short.txt"
  [ "$rc" = 1 ] && grep -qE "^twin: first difference at record [0-9]+ " "$out/short.txt" ||
    { echo "FAIL: a twin one slice short was not told apart (exit $rc)"; exit 1; }
  echo "hosted and bare metal: the same $n witness records apart from time"
  ;;
boot_gicv2)
  # The same swarm with the memory-mapped GICv2 CPU interface instead of GICv3.
  run --smp 2 --machine virt,virtualization=on,gic-version=2
  expect "GICv2 distributor" "boot complete: 2 CPU\\(s\\) online, 11 partitions" \
    "partition 1 \\(faulter\\) exited with 4 after 1 restart" "partition 4 \\(counter\\) exited with 6"
  clean
  audit
  ;;
panic)
  # A fault at EL2 itself: the vectors save every register, report, and power off.
  # On the PL011 alone (no semihosting): that console path stays tested too.
  run --smp 2 --pl011 -- -append rvm.test-panic
  expect "PANIC: unexpected EL2 sync exception at EL2 on cpu 0" "esr [0-9a-f]+ \\(class 25\\)" \
    "far 100000000 " "x30 [0-9a-f]+"
  # What was streamed before the fault still verifies (it just has no shutdown checkpoint).
  "$RVM_BIN" audit "$out/qemu-witness.log" --trust-log-key
  ;;
bad_frames)
  # The capture side on hostile console output: a fake QEMU prints broken frames.
  cat > "$out/fake-qemu" <<'FAKE'
#!/bin/sh
echo "rvm: hello"
echo "@rvm:w:zz"
echo "@rvm:q:00"
echo "@rvm:w:0"
echo "@rvm:k:1234"
echo "@rvm:w"
head -c 3000 /dev/zero | tr '\0' 'a'; echo
FAKE
  chmod +x "$out/fake-qemu"
  rc=0; "$RVM_QEMU_RUN" --elf "$RVM_QEMU_ELF" --out "$out" --qemu "$out/fake-qemu" > "$out/run.txt" 2>&1 || rc=$?
  cat "$out/run.txt"
  [ "$rc" = 1 ] || { echo "FAIL: runner exit $rc on malformed frames, want 1"; exit 1; }
  [ "$(grep -c 'malformed frame' "$out/run.txt")" = 5 ] || { echo "FAIL: not every bad frame reported"; exit 1; }
  # A log that is not a witness log: a clear verdict, never a crash.
  head -c 4096 /dev/urandom > "$out/junk.log"
  rc=0; "$RVM_QEMU_RUN" --verify "$out/junk.log" || rc=$?
  [ "$rc" = 1 ] || { echo "FAIL: --verify exit $rc on junk, want 1"; exit 1; }
  rc=0; "$RVM_QEMU_RUN" --elf /nonexistent 2>/dev/null || rc=$?
  [ "$rc" = 2 ] || { echo "FAIL: runner exit $rc on a missing image, want 2"; exit 1; }
  ;;
gdb)
  # The `make qemu-debug` flow: QEMU halts at reset until gdb-multiarch attaches; gdb stops at
  # the board's C entry with the image's symbols, reads registers, and lets it run to PSCI off.
  command -v gdb-multiarch >/dev/null || {
    echo "SKIP: gdb-multiarch not installed (make qemu-debug needs it; scripts/deps.sh installs it)"; exit 77; }
  port=$((20000 + RANDOM % 20000))
  timeout 60 "$RVM_QEMU_RUN" --elf "$RVM_QEMU_ELF" --out "$out" --smp 1 --gdb-port "$port" \
    > "$out/run.txt" 2>&1 &
  runner=$!
  sleep 1
  [ ! -s "$out/qemu-console.txt" ] || { echo "FAIL: the image ran before gdb attached"; exit 1; }
  timeout 60 gdb-multiarch -nx -batch -ex "set tcp connect-timeout 30" -ex "target remote :$port" \
    -ex "break rvm_qemu_main" -ex continue -ex 'print ($cpsr >> 2) & 3' -ex "info registers pc" \
    -ex continue "$RVM_QEMU_ELF" > "$out/gdb.txt" 2>&1 || true
  rc=0; wait "$runner" || rc=$?
  cat "$out/gdb.txt"
  grep -qE "Breakpoint 1, (0x[0-9a-f]+ in )?rvm_qemu_main" "$out/gdb.txt" || { echo "FAIL: gdb did not stop at rvm_qemu_main"; exit 1; }
  grep -qE '^\$1 = 2$' "$out/gdb.txt" || { echo "FAIL: gdb did not read PSTATE.EL = 2"; exit 1; }
  grep -qE "^pc +0x[0-9a-f]+ +(0x[0-9a-f]+ )?<rvm_qemu_main" "$out/gdb.txt" || { echo "FAIL: no pc at rvm_qemu_main"; exit 1; }
  [ "$rc" = 0 ] || { echo "FAIL: runner exit $rc after gdb let it run"; cat "$out/run.txt"; exit 1; }
  expect "boot complete: 1 CPU\\(s\\) online" "shutdown via PSCI SYSTEM_OFF"
  clean
  audit
  ;;
bad_args)
  # A malformed rvm.run-ms is named on the console with what it takes, and the default kept:
  # the demo runs to its own end (no fixed-length run). Out of range likewise, with its code.
  run --smp 1 -- -append "rvm.run-ms=12abc"
  expect "boot argument rvm\\.run-ms=12abc ignored \\(RVM_E_MALFORMED\\): it takes a whole number of milliseconds, 1 to 4294967295" \
    "boot complete: 1 CPU\\(s\\) online" "kernel agents: [0-9]+ ms, 13 agents"
  if grep -E "rvm: run of" "$out/qemu-console.txt"; then echo "FAIL: a malformed rvm.run-ms set the run's length"; exit 1; fi
  clean
  audit
  run --smp 1 -- -append "rvm.twin rvm.run-ms=0"
  expect "boot argument rvm\\.run-ms=0 ignored \\(RVM_E_RANGE\\)" "twin: 400 slices ran an agent"
  clean
  # A good value still sets it, and says nothing else.
  run --smp 1 -- -append "rvm.run-ms=300"
  expect "rvm: run of 300 ms"
  if grep -E "ignored" "$out/qemu-console.txt"; then echo "FAIL: a good rvm.run-ms was refused"; exit 1; fi
  clean
  ;;
wrong_el)
  # Without virtualization=on QEMU enters at EL1: the image must say why it cannot run.
  run --machine virt,gic-version=3
  expect "FATAL: entered at EL1" "virtualization=on"
  ;;
*) echo "unknown case $case"; exit 2 ;;
esac
echo "PASS: qemu $case"
