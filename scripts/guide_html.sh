#!/usr/bin/env bash
# scripts/guide_html.sh - `make docs`: the user guide and the subsystem references as HTML (pandoc), diagrams as SVG.
# Usage: guide_html.sh OUTDIR   -> OUTDIR/guide/*.html (start at guide/index.html), OUTDIR/*.html
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out=${1:?usage: guide_html.sh OUTDIR}
command -v pandoc >/dev/null || { echo "make docs: pandoc not found (scripts/deps.sh installs it)" >&2; exit 2; }
mkdir -p "$out/guide"
bash "$root/scripts/guide_diagrams.sh" "$out/guide/img" >/dev/null
css=$out/rvm.css
cat >"$css" <<'CSS'
body { max-width: 52em; margin: 2em auto; padding: 0 1em; font-family: sans-serif; line-height: 1.5; }
pre, code { font-family: monospace; background: #f5f5f5; }
pre { padding: 0.6em; overflow-x: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; }
img { max-width: 100%; }
CSS
page() { # page SRC DEST CSSPATH
  local title
  title=$(sed -n 's/^# //p' "$1" | head -1)
  pandoc -f gfm -t html5 --standalone --lua-filter "$root/scripts/guide_links.lua" \
    --metadata title="$title" --css "$3" -o "$2" "$1"
}
for f in "$root"/docs/guide/*.md; do
  name=$(basename "$f" .md)
  [ "$name" = README ] && name=index
  page "$f" "$out/guide/$name.html" ../rvm.css
done
for f in "$root"/docs/*.md; do
  page "$f" "$out/$(basename "$f" .md).html" rvm.css
done
echo "make docs: $(ls "$out"/guide/*.html | wc -l) guide pages and $(ls "$out"/*.html | wc -l) references in $out (open $out/guide/index.html)"
