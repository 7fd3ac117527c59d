#!/usr/bin/env bash
# tests/e2e/ed25519_tables.sh - the committed lib/ed25519_tables.h is exactly what its generator writes.
set -euo pipefail
src=${RVM_SOURCE:?RVM_SOURCE not set}
if ! command -v python3 >/dev/null; then
  echo "SKIP: python3 absent, cannot regenerate lib/ed25519_tables.h"
  exit 0
fi
if ! diff -u "$src/lib/ed25519_tables.h" <(python3 "$src/scripts/gen_ed25519_tables.py") >/dev/null; then
  echo "FAIL: lib/ed25519_tables.h differs from scripts/gen_ed25519_tables.py output"
  exit 1
fi
echo "ok: lib/ed25519_tables.h matches its generator"
