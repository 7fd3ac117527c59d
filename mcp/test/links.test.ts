// mcp/test/links.test.ts - every relative link in the guide reaches a file, and every #anchor a heading there.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, resolve } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { slug } from "../src/text.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Anchors of a markdown file: the slug of every heading outside code fences. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  let fence = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^(```|~~~)/.test(line)) fence = !fence;
    const m = fence ? null : /^#{1,6}\s+(.*?)\s*$/.exec(line);
    if (m) out.add(slug(m[1]));
  }
  return out;
}

it("every link in the guide and the README resolves", () => {
  const files = readdirSync(join(root, "docs/guide"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(root, "docs/guide", f));
  files.push(join(root, "README.md"));
  const bad: string[] = [];
  let checked = 0;
  for (const file of files) {
    const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
    for (const m of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split("#");
      const dest = path ? normalize(join(dirname(file), path)) : file;
      checked++;
      if (!existsSync(dest)) bad.push(`${file}: ${target}: no such file`);
      else if (anchor && dest.endsWith(".md") && !anchors(dest).has(anchor)) bad.push(`${file}: ${target}: no such heading`);
    }
  }
  assert.deepEqual(bad, []);
  assert.ok(checked > 50, `only ${checked} links checked`);
});
