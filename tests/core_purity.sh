#!/usr/bin/env bash
# Checks the cross-built freestanding core (ARCHITECTURE.md section 1):
#  - no writable global state (data/bss symbols) in kernel/ and lib/,
#  - no undefined symbol beyond the core's own and the compiler's integer helpers,
#  - no soft-float helpers in kernel/ and lib/ (no floating point outside wasm/).
set -euo pipefail
build=${1:-build}
fail=0

check() { # check NM LIB ALLOWED_UNDEFINED_REGEX
  local nm=$1 lib=$2 allowed=$3
  [ -f "$lib" ] || { echo "purity: missing $lib"; fail=1; return; }
  local globals undefined
  globals=$($nm --defined-only "$lib" | awk 'NF==3 && $2 ~ /^[bBdDcCgGsS]$/ { print $3 }')
  if [ -n "$globals" ]; then
    echo "purity: $lib has writable global state: $globals"; fail=1
  fi
  undefined=$($nm --undefined-only "$lib" | awk '$1 == "U" { print $2 }' | sort -u |
    grep -Ev "$allowed" || true)
  # Symbols defined anywhere in the core libraries are fine.
  local defined
  defined=$($nm --defined-only "$build"/*/librvm_*.a 2>/dev/null | awk 'NF==3 { print $3 }' | sort -u)
  for s in $undefined; do
    grep -qx "$s" <<<"$defined" || { echo "purity: $lib needs undefined symbol $s"; fail=1; }
  done
}

# memcpy/memset may be emitted by the compiler for struct copies: platforms supply them.
A64_OK='^(memcpy|memset|memmove|memcmp)$'
M3_OK='^(memcpy|memset|memmove|memcmp|__aeabi_(uldivmod|ldivmod|uidiv|uidivmod|idiv|idivmod|llsl|llsr|lasr|lmul|memcpy|memcpy4|memcpy8|memset|memset4|memset8|memclr|memclr4|memclr8))$'
for lib in rvm_lib rvm_kernel; do
  check aarch64-linux-gnu-nm "$build/aarch64-virt/lib$lib.a" "$A64_OK"
  check arm-none-eabi-nm "$build/seed/lib$lib.a" "$M3_OK"
done
# rvm_lib_simd may use the SIMD registers, so it must hold nothing but the SHA-256 CE file.
for target in aarch64-virt seed; do
  lib="$build/$target/librvm_lib_simd.a"
  nm=aarch64-linux-gnu-nm; ok=$A64_OK
  [ $target = seed ] && { nm=arm-none-eabi-nm; ok=$M3_OK; }
  check $nm "$lib" "$ok"
  members=$(ar t "$lib" 2>/dev/null | tr '\n' ' ')
  if [ "$members" != "sha256_armv8.c.obj " ]; then
    echo "purity: $lib must contain only sha256_armv8.c.obj, has: $members"; fail=1
  fi
done
if [ -f "$build/aarch64-virt/librvm_wasm.a" ]; then
  check aarch64-linux-gnu-nm "$build/aarch64-virt/librvm_wasm.a" "$A64_OK"
fi
if [ -f "$build/seed/librvm_wasm.a" ]; then
  # wasm/ may use the M3's soft-float helpers.
  check arm-none-eabi-nm "$build/seed/librvm_wasm.a" "$M3_OK|^__aeabi_[fd]|^__aeabi_u?[il]2[fd]$|^__(add|sub|mul|div|fix|float|extend|trunc|eq|ne|lt|le|gt|ge|un)[sdt]f"
fi
[ $fail = 0 ] && echo "purity: core is freestanding, global-state free and FP free (kernel/, lib/)"
exit $fail
