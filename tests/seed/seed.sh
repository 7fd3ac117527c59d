#!/usr/bin/env bash
# tests/seed/seed.sh CASE - the seed image: its memory budget, and a boot under QEMU lm3s6965evb
# with its console and streamed witness log checked. Exit 77 (skip) only when a tool is missing.
set -euo pipefail
case=${1:?usage: seed.sh CASE}
[ -f "$RVM_SEED_ELF" ] || {
  command -v arm-none-eabi-gcc >/dev/null || { echo "SKIP: arm-none-eabi-gcc not installed (Debian package gcc-arm-none-eabi)"; exit 77; }
  echo "FAIL: image $RVM_SEED_ELF was not built"; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
key=$RVM_SEED_DIR/seed-device.key

expect() {
  for p in "$@"; do
    grep -qE -- "$p" "$out/seed-console.txt" || { echo "FAIL: console lacks /$p/"; cat "$out/seed-console.txt"; exit 1; }
  done
}

case $case in
memory)
  # The budget: the report passes for the real image...
  sh "$RVM_SOURCE/platform/seed/memreport.sh" "$RVM_SEED_ELF" | tee "$out/report.txt"
  ram=$(awk '$1 == "RAM" { print $2 }' "$out/report.txt")
  flash=$(awk '$1 == "flash" { print $2 }' "$out/report.txt")
  [ "$ram" -gt 0 ] && [ "$ram" -le 65536 ] && [ "$flash" -gt 0 ] && [ "$flash" -le 262144 ] ||
    { echo "FAIL: RAM $ram / flash $flash outside the board's 64 KB / 256 KB"; exit 1; }
  # ...and the same objects linked with a kernel stack that cannot fit must not link.
  # The objects the image was linked from, as its map lists them (not whatever lies in the
  # build tree: objects of deleted sources may linger there).
  objs=$(awk -v d="$RVM_SEED_DIR" '$1 == "LOAD" && $2 ~ /\.obj$/ { print d "/" $2 }' \
    "$RVM_SEED_DIR/platform/seed/rvm-seed.elf.map")
  [ -n "$objs" ] || { echo "FAIL: no objects in the link map"; exit 1; }
  link() {
    # shellcheck disable=SC2086
    arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -nostdlib -static -T "$RVM_SOURCE/platform/seed/linker.ld" \
      -Wl,--gc-sections "$@" $objs -Wl,--start-group "$RVM_SEED_DIR/librvm_wasm.a" \
      "$RVM_SEED_DIR/librvm_kernel.a" "$RVM_SEED_DIR/librvm_lib.a" -Wl,--end-group -lgcc \
      -o "$out/relink.elf"
  }
  link || { echo "FAIL: the control relink failed"; exit 1; }
  if link -Wl,--defsym=__main_stack_size=0xF000 2> "$out/link.err"; then
    echo "FAIL: an image needing more than 64 KB of RAM linked"; exit 1
  fi
  grep -E "exceeds the board's 64 KB|overflowed" "$out/link.err" || { echo "FAIL: unexpected link error"; cat "$out/link.err"; exit 1; }
  echo "oversized image rejected by the linker"
  ;;
boot)
  command -v qemu-system-arm >/dev/null || {
    echo "SKIP: qemu-system-arm not installed (Debian package qemu-system-arm)"; exit 77; }
  "$RVM_QEMU_RUN" --board seed --elf "$RVM_SEED_ELF" --out "$out" --timeout 20 2> "$out/stderr.txt" |
    tee "$out/run.txt" || { echo "FAIL: the seed did not exit cleanly"; cat "$out/stderr.txt"; exit 1; }
  expect "RVM seed on lm3s6965evb \\(Cortex-M3, 64 KB SRAM\\), profile seed" \
    "boot complete: 2 phases witnessed, 3 records" \
    "partition 3 \\(intruder\\) MemManage fault: data access at 0x2000[0-9a-f]{4} \\(CFSR 0x82" \
    "partition 3 F1 recovery: restart 1" \
    "partition 1 \\(sensor\\) handled 6 events after 0 restart\\(s\\), last result 21" \
    "partition 2 \\(filter\\) handled 6 events after 0 restart\\(s\\), last result 56" \
    "partition 3 \\(intruder\\) handled 5 events after 1 restart\\(s\\)" \
    "partition 1 data intact: sum 21" "records streamed; exit via semihosting" \
    "capabilities: sensor WRITE, filter READ, intruder READ" \
    "partition 3 \\(intruder\\) send refused by the gate: RVM_E_PERM" \
    "replayed nonce refused by the gate: RVM_E_REPLAY" "gate: 10 operations allowed, 5 refused" \
    "wasm task: module of [0-9]+ bytes, no linear memory; arena 16384 B" \
    "partition 4 \\(wasm\\) trapped: integer divide by zero" "partition 4 F1 recovery: restart 1" \
    "partition 4 \\(wasm\\) handled 5 events after 1 restart\\(s\\), last result [0-9]+, fuel [0-9]+ in [0-9]+ slices, 5 host calls"
  if grep -E "PANIC|FATAL" "$out/seed-console.txt"; then echo "FAIL: the image reported an error"; exit 1; fi
  # The records: the fault names partition 3 and the exact address of partition 1's memory,
  # F1 follows it, and both other partitions keep handling events afterwards.
  "$RVM_BIN" query "$out/seed-witness.log" --hmac-key "$key" > "$out/records.txt"
  p1=$(awk '$3 == "partition.create" && $6 == 1 { print $7 }' "$out/records.txt")
  fault=$(awk '$3 == "recovery.fault" && $5 == 3 { print $1 " " $6; exit }' "$out/records.txt")
  f1=$(awk '$3 == "recovery.f1_restart_agent" && $6 == 3 { print $1; exit }' "$out/records.txt")
  [ -n "$p1" ] && [ -n "$fault" ] && [ -n "$f1" ] && [ "${fault#* }" = "$p1" ] && [ "$f1" -gt "${fault% *}" ] ||
    { echo "FAIL: no FAULT at partition 1's address ($p1) followed by F1"; cat "$out/records.txt"; exit 1; }
  others=$(awk -v f="${fault% *}" '$1 > f && $3 == "ipc.recv" && $5 != 3' "$out/records.txt" | wc -l)
  echo "after the fault: $others events handled by the other partitions"
  [ "$others" -ge 8 ] || { echo "FAIL: the other partitions did not keep running"; exit 1; }
  # The gate: six sends by the sensor witnessed, four refusals of the intruder at P1
  # (cap.denied) and the replay at P2 (gate.denied).
  sends=$(awk '$3 == "ipc.send" && $5 == 1' "$out/records.txt" | wc -l)
  denied=$(awk '$3 == "cap.denied" && $5 == 3' "$out/records.txt" | wc -l)
  replay=$(awk '$3 == "gate.denied" && $5 == 1' "$out/records.txt" | wc -l)
  echo "gate records: $sends sends, $denied P1 refusals, $replay replay refusals"
  [ "$sends" = 6 ] && [ "$denied" = 4 ] && [ "$replay" = 1 ] || { echo "FAIL: gate records"; cat "$out/records.txt"; exit 1; }
  # The WebAssembly task (partition 4): its trap witnessed and F1 after it, then five events
  # handled in more fuel slices than events (the interpreter was interrupted and resumed).
  trap=$(awk '$3 == "agent.trap" && $5 == 4 { print $1; exit }' "$out/records.txt")
  wf1=$(awk '$3 == "recovery.f1_restart_agent" && $6 == 4 { print $1; exit }' "$out/records.txt")
  wrecv=$(awk '$3 == "ipc.recv" && $5 == 4' "$out/records.txt" | wc -l)
  wcalls=$(awk '$3 == "agent.hostcall" && $5 == 4' "$out/records.txt" | wc -l)
  [ -n "$trap" ] && [ -n "$wf1" ] && [ "$wf1" -gt "$trap" ] && [ "$wrecv" = 5 ] && [ "$wcalls" = 5 ] ||
    { echo "FAIL: wasm task records (trap $trap, F1 $wf1, $wrecv events, $wcalls host calls)"; exit 1; }
  slices=$(sed -nE 's/.*\(wasm\) handled .* in ([0-9]+) slices.*/\1/p' "$out/seed-console.txt")
  [ "$slices" -gt 10 ] || { echo "FAIL: the wasm task was not fuel-sliced ($slices slices)"; exit 1; }
  # The board's boot phases: image (0x100), MPU (0x101), partitions (0x104), agent (0x105);
  # the image measurement is the SHA-256 of the flash image the ELF gives.
  "$RVM_QEMU_RUN" --dump "$out/seed-witness.log" > "$out/dump.txt"
  for ph in 100 101 104 105; do
    grep -qE "boot.phase .*target=$ph " "$out/dump.txt" || { echo "FAIL: no boot phase 0x$ph"; exit 1; }
  done
  rec=$(awk '$2 == "boot.phase" && $4 == "target=100" { print $5, $6 }' "$out/dump.txt")
  arg0=$(printf '%016x' "0x$(sed -E 's/^arg0=([0-9a-f]+) .*/\1/' <<<"$rec")")
  size=$(sed -E 's/.*arg1=([0-9a-f]+)$/\1/' <<<"$rec")
  arm-none-eabi-objcopy -O binary "$RVM_SEED_ELF" "$out/flash.bin"
  [ "$(stat -c %s "$out/flash.bin")" = $((16#$size)) ] || { echo "FAIL: measured $((16#$size)) bytes, the flash image has $(stat -c %s "$out/flash.bin")"; exit 1; }
  want=$(sha256sum "$out/flash.bin" | cut -c1-16 | fold -w2 | tac | tr -d '\n')
  [ "$want" = "$arg0" ] || { echo "FAIL: image measurement $arg0, the ELF gives $want"; exit 1; }
  echo "image measured: $arg0 over 0x$size bytes matches the ELF's flash image"
  "$RVM_BIN" audit "$out/seed-witness.log" --hmac-key "$key" --require-clean | tee "$out/audit.txt"
  # A flipped byte in the streamed log must be caught.
  cp "$out/seed-witness.log" "$out/bad.log"
  printf '\x55' | dd of="$out/bad.log" bs=1 seek=700 conv=notrunc status=none
  if "$RVM_BIN" audit "$out/bad.log" --hmac-key "$key" >/dev/null; then echo "FAIL: tampering not found"; exit 1; fi
  # The wrong key must not verify the checkpoints.
  printf 'RVM-HMAC-SHA256-KEY\n%064d\n' 0 > "$out/wrong.key"
  if "$RVM_BIN" audit "$out/seed-witness.log" --hmac-key "$out/wrong.key" >/dev/null; then echo "FAIL: wrong key accepted"; exit 1; fi
  ;;
overflow)
  # The kernel stack runs into its MPU guard: a MemManage fault in privileged code, reported,
  # and the board stops with status 1 (the bus alone would never fault on this board).
  command -v qemu-system-arm >/dev/null || {
    echo "SKIP: qemu-system-arm not installed (Debian package qemu-system-arm)"; exit 77; }
  if "$RVM_QEMU_RUN" --board seed --elf "$RVM_SEED_ELF" --out "$out" --timeout 20 -- -append overflow \
    2> "$out/stderr.txt" | tee "$out/run.txt"; then
    echo "FAIL: the overflow did not stop the board"; exit 1
  fi
  guard=$(arm-none-eabi-nm "$RVM_SEED_ELF" 2>/dev/null | awk '$3 == "__main_stack_bottom" { print $1 }')
  expect "stack overflow test: recursing on the kernel stack" \
    "FATAL: kernel fault, exception 4, CFSR 0x[0-9a-f]+, MMFAR 0x"
  if [ -n "$guard" ]; then
    mmfar=$(sed -nE 's/.*MMFAR 0x([0-9a-f]+).*/\1/p' "$out/seed-console.txt")
    [ $((0x$mmfar)) -ge $((0x$guard)) ] && [ $((0x$mmfar)) -lt $((0x$guard + 32)) ] ||
      { echo "FAIL: fault at 0x$mmfar, not in the guard at 0x$guard"; exit 1; }
    echo "fault address 0x$mmfar is inside the 32-byte guard at 0x$guard"
  fi
  if grep -q "the guard did not fire" "$out/seed-console.txt"; then echo "FAIL: no guard"; exit 1; fi
  ;;
bench)
  # Instruction counts under -icount shift=0: exact, so two boots must agree to the digit,
  # and the two-instruction calibration loop must read back 2.00.
  command -v qemu-system-arm >/dev/null || {
    echo "SKIP: qemu-system-arm not installed (Debian package qemu-system-arm)"; exit 77; }
  for i in 1 2; do
    "$RVM_QEMU_RUN" --board seed --elf "${RVM_SEED_ELF%.elf}-bench.elf" --out "$out/$i" --quiet \
      --timeout 20 -- -icount shift=0 > /dev/null 2>&1 || { echo "FAIL: bench image run $i"; exit 1; }
    grep '^seed-bench ' "$out/$i/seed-console.txt" > "$out/bench$i.txt"
  done
  cat "$out/bench1.txt"
  grep -q "calibration_loop_2insn ops=100000 insns=200000 insns_per_op=2.00" "$out/bench1.txt" ||
    { echo "FAIL: calibration is off"; exit 1; }
  [ "$(grep -c insns_per_op "$out/bench1.txt")" = 7 ] || { echo "FAIL: missing bench lines"; exit 1; }
  cmp -s "$out/bench1.txt" "$out/bench2.txt" || { echo "FAIL: counts differ run to run"; diff "$out/bench1.txt" "$out/bench2.txt"; exit 1; }
  ;;
*) echo "unknown case $case"; exit 2 ;;
esac
echo "PASS: seed $case"
