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
# audit: the streamed log must verify with the host's rvm audit (or the core reader until then).
audit() {
  if "$RVM_BIN" help | grep -qE '^ +audit '; then
    "$RVM_BIN" audit "$out/qemu-witness.log" --trust-log-key --require-clean
  else
    "$RVM_QEMU_RUN" --verify "$out/qemu-witness.log"
  fi
}
run() { "$RVM_QEMU_RUN" --elf "$RVM_QEMU_ELF" --out "$out" --timeout 20 "$@" | tee "$out/run.txt"; }

case $case in
boot_smp1|boot_smp4)
  n=${case#boot_smp}
  run --smp "$n"
  expect "RVM on qemu-virt, EL2, $n CPU\\(s\\)" "memory 40000000\\.\\.48000000 \\(128 MiB\\) from the device tree" \
    "first witness record" "shutdown via PSCI SYSTEM_OFF"
  grep -E "first witness record after [0-9.]+ ms" "$out/run.txt"
  audit
  ;;
wrong_el)
  # Without virtualization=on QEMU enters at EL1: the image must say why it cannot run.
  run --machine virt,gic-version=3
  expect "FATAL: entered at EL1" "virtualization=on"
  ;;
*) echo "unknown case $case"; exit 2 ;;
esac
echo "PASS: qemu $case"
