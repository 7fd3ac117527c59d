#!/usr/bin/env bash
# tests/e2e/sha256_armv8.sh - cross-builds the SHA-256 ARMv8 crypto-extension path with its NIST
# CAVP check (tests/aarch64/sha256_armv8_main.c) for AArch64 Linux and runs it under
# qemu-aarch64 -cpu max, which has the SHA2 instructions and emulates ID_AA64ISAR0_EL1 reads.
set -euo pipefail
src=${RVM_SOURCE:?RVM_SOURCE not set}
build=${RVM_BUILD:?RVM_BUILD not set}
data=${RVM_TESTDATA:-$src/../shared/testdata}
cc=aarch64-linux-gnu-gcc
for tool in $cc qemu-aarch64; do
  if ! command -v $tool >/dev/null; then
    echo "SKIP: $tool absent (scripts/deps.sh installs gcc-aarch64-linux-gnu and qemu-user)"
    exit 0
  fi
done
if [ ! -f /usr/aarch64-linux-gnu/lib/libc.a ]; then
  echo "SKIP: no static AArch64 libc (scripts/deps.sh installs libc6-dev-arm64-cross)"
  exit 0
fi
out=$build/sha256_armv8_test
# The CE file is built as rvm_lib_simd builds it (no -mgeneral-regs-only); detect() may pick it.
$cc -static -O2 -std=c11 -Wall -Wextra -Werror -DRVM_SHA256_ARMV8_DETECT -I"$src/include" \
  "$src/tests/aarch64/sha256_armv8_main.c" "$src/lib/sha256.c" "$src/lib/sha256_detect.c" \
  "$src/lib/sha256_armv8.c" "$src/lib/bytes.c" -o "$out"
set +e
qemu-aarch64 -cpu max "$out" "$data"
rc=$?
set -e
if [ $rc = 77 ]; then
  exit 0 # the program printed why (test data absent)
fi
exit $rc
