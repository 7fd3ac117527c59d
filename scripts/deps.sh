#!/usr/bin/env bash
# The project's one dependency step: checks every Debian package RVM needs and
# installs the missing ones (as root), or prints the exact command to run.
# A second run finds everything present and returns in well under a second.
set -euo pipefail

PACKAGES=(
  cmake ninja-build pkg-config gcc g++ clang lld libclang-rt-14-dev
  gcc-aarch64-linux-gnu gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  libcmocka-dev libsodium-dev libssl-dev liblz4-dev libigraph-dev libboost-graph-dev
  libcjson-dev wabt nodejs cppcheck clang-tidy clang-format valgrind
  qemu-user libc6-dev-arm64-cross gdb-multiarch
  pandoc graphviz openssl xxd python3
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd
)

# The documentation MCP server (mcp/) installs its locked npm packages once, when they are missing.
mcp_deps() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/mcp"
  [ -d "$dir/node_modules" ] && return 0
  # Debian's own nodejs comes without npm (NodeSource's has it): add Debian's npm then.
  if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  command -v npm >/dev/null || { echo "deps: npm not found: run 'sudo apt-get install -y npm'" >&2; return 1; }
  echo "deps: npm ci in mcp/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# dpkg-query in one call: prints the packages that are not fully installed.
missing=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null |
  awk '$2 != "ii" { print $1 }')
# Packages dpkg has never heard of are absent from the output above.
known=$(dpkg-query -W -f='${Package}\n' "${PACKAGES[@]}" 2>/dev/null || true)
for p in "${PACKAGES[@]}"; do
  grep -qx "$p" <<<"$known" || missing="$missing $p"
done
missing=$(echo $missing)

if [ -z "$missing" ]; then
  mcp_deps
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  echo "deps: installing $missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  echo "deps: done"
  mcp_deps
else
  echo "deps: missing Debian packages. Run:" >&2
  echo "  sudo apt-get install -y $missing" >&2
  exit 1
fi
