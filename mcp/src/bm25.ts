// mcp/src/bm25.ts - an Okapi BM25 index over documents with weighted fields, and query snippets.
import { plain, tokenize } from "./text.js";

/** One searchable unit: text fields with weights (a heading counts more than body text). */
export interface Doc {
  fields: { text: string; weight: number }[];
  body: string; // the text snippets are cut from
}

export interface Hit {
  index: number;
  score: number;
}

const K1 = 1.2;
const B = 0.75;

/** BM25 with per-field term weights (BM25F-style: weighted term frequency, one length). */
export class Bm25 {
  private tf: Map<string, number>[] = [];
  private len: number[] = [];
  private df = new Map<string, number>();
  private avgLen = 0;

  constructor(docs: Doc[]) {
    for (const d of docs) {
      const tf = new Map<string, number>();
      let len = 0;
      for (const f of d.fields) {
        for (const t of tokenize(f.text)) {
          tf.set(t, (tf.get(t) ?? 0) + f.weight);
          len += f.weight;
        }
      }
      for (const t of tf.keys()) this.df.set(t, (this.df.get(t) ?? 0) + 1);
      this.tf.push(tf);
      this.len.push(len);
    }
    this.avgLen = this.len.reduce((a, b) => a + b, 0) / Math.max(1, this.len.length);
  }

  /** Documents scoring above zero for the query, best first (ties: earlier document first). */
  search(query: string, filter: (i: number) => boolean = () => true): Hit[] {
    const terms = [...new Set(tokenize(query))];
    const n = this.tf.length;
    const hits: Hit[] = [];
    for (let i = 0; i < n; i++) {
      if (!filter(i)) continue;
      let score = 0;
      for (const t of terms) {
        const f = this.tf[i].get(t);
        if (!f) continue;
        const df = this.df.get(t) ?? 0;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (idf * f * (K1 + 1)) / (f + K1 * (1 - B + (B * this.len[i]) / this.avgLen));
      }
      if (score > 0) hits.push({ index: i, score });
    }
    hits.sort((a, b) => b.score - a.score || a.index - b.index);
    return hits;
  }
}

/**
 * The window of about `width` characters of the body holding the most query terms,
 * with the matches in **bold**.
 */
export function snippet(body: string, query: string, width = 220): string {
  const text = plain(body);
  const terms = new Set(tokenize(query));
  const words = text.split(" ");
  const match = words.map((w) => tokenize(w).some((t) => terms.has(t)));
  let best = 0;
  let bestCount = -1;
  for (let start = 0; start < words.length; start++) {
    let chars = 0;
    let count = 0;
    for (let j = start; j < words.length && chars < width; j++) {
      chars += words[j].length + 1;
      if (match[j]) count++;
    }
    if (count > bestCount) {
      bestCount = count;
      best = start;
    }
  }
  const out: string[] = [];
  let chars = 0;
  for (let j = best; j < words.length && chars < width; j++) {
    out.push(match[j] ? `**${words[j]}**` : words[j]);
    chars += words[j].length + 1;
  }
  const end = best + out.length < words.length ? " ..." : "";
  return (best > 0 ? "... " : "") + out.join(" ") + end;
}
