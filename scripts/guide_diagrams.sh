#!/usr/bin/env bash
# scripts/guide_diagrams.sh - renders the guide's graphviz diagrams (docs/guide/img/*.dot) to SVG.
# Usage: guide_diagrams.sh [OUTDIR]   (default: next to the sources, where the committed SVGs live)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)/docs/guide/img"
out=${1:-$src}
command -v dot >/dev/null || { echo "guide_diagrams: graphviz 'dot' not found (scripts/deps.sh installs it)" >&2; exit 2; }
mkdir -p "$out"
for f in "$src"/*.dot; do
  dot -Tsvg "$f" -o "$out/$(basename "$f" .dot).svg"
done
echo "guide_diagrams: $(ls "$src"/*.dot | wc -l) diagrams in $out"
