// mcp/src/api.ts - the C API read from include/rvm/*.h at start-up: declarations with their doc comments.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface ApiItem {
  name: string; // rvm_cap_grant, struct rvm_witness_record, RVM_CAP_MAX_DEPTH, enum rvm_err
  kind: "function" | "struct" | "enum" | "union" | "typedef" | "macro";
  header: string; // include/rvm/cap.h
  line: number;
  declaration: string;
  doc: string; // the comment right above (or on the line of) the declaration
}

/** Comment text without the comment markers and leading stars. */
function clean(comment: string): string {
  return comment
    .replace(/^\/\*+/, "")
    .replace(/\*+\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\*?\s?/, "").trimEnd())
    .join("\n")
    .trim();
}

/** Parses one header: top-level declarations and the comment block that precedes each. */
export function parseHeader(text: string, header: string): ApiItem[] {
  const lines = text.split("\n");
  const items: ApiItem[] = [];
  let doc = "";
  let depth = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (depth === 0 && /^\s*\/\*/.test(line)) {
      let j = i;
      let c = line;
      while (!lines[j].includes("*/") && j + 1 < lines.length) c += "\n" + lines[++j];
      doc = clean(c.trim());
      i = j;
      if (i === 0) doc = ""; // the file's own first-line comment
      continue;
    }
    if (depth === 0 && line.trim() === "") {
      doc = "";
      continue;
    }
    const start = i;
    if (depth === 0) {
      const define = /^#define\s+([A-Z_][A-Z0-9_]*)(\(?)/.exec(line);
      if (define) {
        const trailing = /\/\*(.*?)\*\//.exec(line);
        let decl = line;
        while (decl.endsWith("\\") && i + 1 < lines.length) decl += "\n" + lines[++i];
        if (!/_H$/.test(define[1]))
          items.push({ name: define[1], kind: "macro", header, line: start + 1,
            declaration: decl.replace(/\s*\/\*.*?\*\/\s*$/, ""), doc: doc || (trailing ? trailing[1].trim() : "") });
        doc = "";
        continue;
      }
      if (/^#/.test(line) || /^\s/.test(line) || /^}/.test(line)) {
        depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
        if (depth < 0) depth = 0;
        continue;
      }
      const agg = /^(?:typedef\s+)?(struct|enum|union)\s+(\w+)\s*{/.exec(line);
      let decl = line;
      while (!/[;{]\s*(\/\*.*)?$/.test(decl) && i + 1 < lines.length) decl += "\n" + lines[++i];
      if (agg) {
        let d = (decl.match(/{/g) ?? []).length - (decl.match(/}/g) ?? []).length;
        while (d > 0 && i + 1 < lines.length) {
          const l = lines[++i];
          decl += "\n" + l;
          d += (l.match(/{/g) ?? []).length - (l.match(/}/g) ?? []).length;
        }
        items.push({ name: `${agg[1]} ${agg[2]}`, kind: agg[1] as ApiItem["kind"], header,
          line: start + 1, declaration: decl, doc });
      } else if (/^typedef\b/.test(line)) {
        const m = /(\w+)\s*(\)\s*\([^)]*\))?\s*;\s*$/.exec(decl.replace(/\(\s*\*?\s*(\w+)\s*\)\s*\(/, " $1 ("));
        const fn = /\(\s*\*?\s*(\w+)\s*\)\s*\(/.exec(decl) ?? /(\w+)\s*\(/.exec(decl);
        const name = fn ? fn[1] : m ? m[1] : "";
        if (name) items.push({ name, kind: "typedef", header, line: start + 1, declaration: decl, doc });
      } else {
        const fn = /(\w+)\s*\(/.exec(decl);
        if (fn && !/^(if|while|for|return|sizeof|_Static_assert|static_assert|alignas)$/.test(fn[1])) {
          let sig = decl;
          if (decl.includes("{")) {
            sig = decl.slice(0, decl.indexOf("{")).trimEnd();
            let d = (decl.match(/{/g) ?? []).length - (decl.match(/}/g) ?? []).length;
            while (d > 0 && i + 1 < lines.length) {
              const l = lines[++i];
              d += (l.match(/{/g) ?? []).length - (l.match(/}/g) ?? []).length;
            }
          }
          items.push({ name: fn[1], kind: "function", header, line: start + 1, declaration: sig, doc });
        }
      }
      // A comment above a run of declarations with no blank line between them documents the
      // whole group (e.g. "Little-endian loads and stores."); a blank line ends the group.
      continue;
    }
  }
  return items;
}

/** Every declaration in include/rvm/*.h, sorted by header then line. */
export function loadApi(root: string): ApiItem[] {
  const dir = join(root, "include/rvm");
  const out: ApiItem[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".h")).sort())
    out.push(...parseHeader(readFileSync(join(dir, f), "utf8"), `include/rvm/${f}`));
  return out;
}
