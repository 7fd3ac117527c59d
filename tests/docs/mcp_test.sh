#!/usr/bin/env bash
# tests/docs/mcp_test.sh - runs the MCP server's own tests (`npm test` in mcp/) from ctest.
set -euo pipefail
: "${RVM_SOURCE:?RVM_SOURCE must name the source tree}" "${RVM_BIN:?RVM_BIN must name the rvm binary}"
cd "$RVM_SOURCE/mcp"
command -v npm >/dev/null || { echo "FAIL: npm not found (scripts/deps.sh installs nodejs)"; exit 1; }
[ -d node_modules ] || { echo "FAIL: mcp/node_modules missing: run 'npm ci' in mcp/ (scripts/deps.sh does)"; exit 1; }
exec npm test --silent
