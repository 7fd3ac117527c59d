// mcp/src/text.ts - tokenising, light stemming and GitHub-style heading anchors, shared by every index.

const STOP = new Set([
  "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "i", "in", "into", "is",
  "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "which",
  "with", "want", "do", "does", "can", "my", "me",
]);

/** Folds plurals and common suffixes so "chains" finds "chain" and "records" finds "record". */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return word.slice(0, -3) + "y";
  if (word.length > 4 && word.endsWith("sses")) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss") && !word.endsWith("us"))
    return word.slice(0, -1);
  return word;
}

/**
 * Lower-case terms of a text, stop words removed. Identifiers with underscores or dots
 * (rvm_cap_grant, cap.grant) give the whole identifier and each part.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().match(/[a-z0-9_.]+/g) ?? []) {
    const word = raw.replace(/^[._]+|[._]+$/g, "");
    if (!word) continue;
    const parts = word.split(/[._]+/).filter((p) => p.length > 0);
    if (parts.length > 1) out.push(word);
    for (const p of parts) if (!STOP.has(p)) out.push(stem(p));
  }
  return out;
}

/** The anchor GitHub (and pandoc's gfm reader) gives a heading. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Markdown without link targets, emphasis and code ticks, for snippets. */
export function plain(md: string): string {
  return md
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*`]/g, "")
    .replace(/<!--.*?-->/g, "")
    .replace(/\s+/g, " ")
    .trim();
}
