// mcp/src/corpus.ts - the guide and the reference docs as chapters and sections, with their anchors.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { slug } from "./text.js";

export interface Section {
  chapter: string; // chapter id: file name without .md (e.g. "05-witness")
  chapterTitle: string;
  heading: string; // "" for the text before the first ## heading
  level: number; // 1 for the chapter intro, 2 or 3
  anchor: string; // repo-relative path#slug
  line: number; // 1-based line of the heading in the file
  text: string; // markdown of the section, heading excluded
}

export interface Chapter {
  id: string;
  title: string;
  file: string; // repo-relative
  kind: "guide" | "reference";
  text: string;
  sections: Section[];
}

/** Splits one markdown file into sections at ## and ### headings (not inside code fences). */
export function parseChapter(root: string, rel: string, kind: Chapter["kind"]): Chapter {
  const text = readFileSync(join(root, rel), "utf8");
  const id = basename(rel, ".md");
  const lines = text.split("\n");
  let title = id;
  let fence = false;
  const sections: Section[] = [];
  let cur: Section | null = null;
  const body: string[] = [];
  const close = () => {
    if (cur) {
      cur.text = body.join("\n").trim();
      sections.push(cur);
    }
    body.length = 0;
  };
  lines.forEach((line, i) => {
    if (/^(```|~~~)/.test(line)) fence = !fence;
    const m = fence ? null : /^(#{1,3})\s+(.*?)\s*#*\s*$/.exec(line);
    if (m && m[1].length === 1 && !cur) {
      title = m[2];
      cur = { chapter: id, chapterTitle: title, heading: "", level: 1, anchor: `${rel}#${slug(title)}`,
        line: i + 1, text: "" };
      return;
    }
    if (m && m[1].length >= 2) {
      close();
      cur = { chapter: id, chapterTitle: title, heading: m[2], level: m[1].length,
        anchor: `${rel}#${slug(m[2])}`, line: i + 1, text: "" };
      return;
    }
    body.push(line);
  });
  close();
  for (const s of sections) s.chapterTitle = title;
  return { id, title, file: rel, kind, text, sections };
}

/** The guide's chapters in order (docs/guide/NN-*.md), then the subsystem references (docs/*.md). */
export function loadCorpus(root: string): Chapter[] {
  const chapters: Chapter[] = [];
  const list = (dir: string) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith(".md"))
      .sort();
  for (const f of list("docs/guide")) chapters.push(parseChapter(root, `docs/guide/${f}`, "guide"));
  for (const f of list("docs")) chapters.push(parseChapter(root, `docs/${f}`, "reference"));
  return chapters;
}

/** Finds a chapter by id ("05-witness"), by name without its number ("witness"), or by number. */
export function findChapter(chapters: Chapter[], key: string): Chapter | undefined {
  const k = key.trim().toLowerCase().replace(/\.md$/, "");
  return (
    chapters.find((c) => c.id.toLowerCase() === k) ??
    chapters.find((c) => c.kind === "guide" && c.id.toLowerCase().replace(/^\d+-/, "") === k) ??
    chapters.find((c) => c.kind === "guide" && /^\d+$/.test(k) && parseInt(c.id, 10) === parseInt(k, 10)) ??
    chapters.find((c) => c.kind === "reference" && c.id.toLowerCase() === k)
  );
}
