// mcp/src/tools.ts - every tool: its JSON Schema, argument checks and the answer it computes.
import { loadApi, type ApiItem } from "./api.js";
import { Bm25, snippet } from "./bm25.js";
import { findChapter, loadCorpus, type Chapter, type Section } from "./corpus.js";
import { BadInput } from "./errors.js";
import { runStatus, witnessAudit, witnessQuery, type RunConfig } from "./runs.js";
import { plain, slug, tokenize } from "./text.js";

type Json = Record<string, unknown>;
interface Prop {
  type: "string" | "integer" | "boolean";
  description: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
}
export interface Tool {
  name: string;
  alias: string; // one letter, for the CLI
  description: string;
  inputSchema: { type: "object"; properties: Record<string, Prop>; required: string[]; additionalProperties: false };
  call(args: Json): Promise<unknown> | unknown;
}

/** Checks args against the tool's schema: required keys, no unknown keys, types, ranges. */
export function checkArgs(tool: Tool, args: unknown): Json {
  if (args === undefined || args === null) args = {};
  if (typeof args !== "object" || Array.isArray(args)) throw new BadInput(`${tool.name}: arguments must be an object`);
  const a = args as Json;
  const props = tool.inputSchema.properties;
  for (const k of Object.keys(a))
    if (!(k in props)) throw new BadInput(`${tool.name}: unknown argument '${k}' (takes: ${Object.keys(props).join(", ") || "none"})`);
  for (const k of tool.inputSchema.required)
    if (a[k] === undefined) throw new BadInput(`${tool.name}: missing required argument '${k}'`);
  for (const [k, p] of Object.entries(props)) {
    const v = a[k];
    if (v === undefined) continue;
    const ok =
      p.type === "string" ? typeof v === "string" :
      p.type === "boolean" ? typeof v === "boolean" :
      typeof v === "number" && Number.isInteger(v);
    if (!ok) throw new BadInput(`${tool.name}: argument '${k}' must be ${p.type === "integer" ? "an integer" : "a " + p.type}`);
    if (p.type === "string" && (v as string).trim() === "") throw new BadInput(`${tool.name}: argument '${k}' is empty`);
    if (p.enum && !p.enum.includes(v as string)) throw new BadInput(`${tool.name}: argument '${k}' must be one of ${p.enum.join(", ")}`);
    if (p.minimum !== undefined && (v as number) < p.minimum) throw new BadInput(`${tool.name}: argument '${k}' must be >= ${p.minimum}`);
    if (p.maximum !== undefined && (v as number) > p.maximum) throw new BadInput(`${tool.name}: argument '${k}' must be <= ${p.maximum}`);
  }
  return a;
}

function schema(properties: Record<string, Prop>, required: string[] = []): Tool["inputSchema"] {
  return { type: "object", properties, required, additionalProperties: false };
}

const str = (description: string): Prop => ({ type: "string", description });

/** Everything the documentation tools read, loaded once at start-up. */
export class Library {
  chapters: Chapter[];
  sections: Section[];
  index: Bm25;
  api: ApiItem[];
  apiIndex: Bm25;
  glossary: { term: string; anchor: string; text: string }[];
  howtos: Section[];
  howtoIndex: Bm25;

  constructor(root: string) {
    this.chapters = loadCorpus(root);
    this.sections = this.chapters.flatMap((c) => c.sections);
    this.index = new Bm25(
      this.sections.map((s) => ({
        fields: [
          { text: s.chapterTitle, weight: 2 },
          { text: s.heading, weight: 3 },
          { text: s.text, weight: 1 },
        ],
        body: s.text,
      })),
    );
    this.api = loadApi(root);
    this.apiIndex = new Bm25(
      this.api.map((a) => ({
        fields: [
          { text: a.name, weight: 4 },
          { text: a.doc, weight: 1 },
          { text: a.header, weight: 1 },
        ],
        body: a.doc,
      })),
    );
    const gloss = this.chapters.find((c) => c.kind === "guide" && /glossary/i.test(c.id));
    this.glossary = (gloss?.sections ?? [])
      .filter((s) => s.level === 3)
      .map((s) => ({ term: s.heading, anchor: s.anchor, text: s.text }));
    this.howtos = this.sections.filter(
      (s) => this.isGuide(s) && /^(i want to|how to|how do i)\b/i.test(s.heading),
    );
    this.howtoIndex = new Bm25(
      this.howtos.map((s) => ({ fields: [{ text: s.heading, weight: 3 }, { text: s.text, weight: 1 }], body: s.text })),
    );
  }

  isGuide(s: Section): boolean {
    return this.chapters.find((c) => c.id === s.chapter)?.kind === "guide";
  }
}

function sectionRef(s: Section) {
  return { chapter: s.chapter, chapter_title: s.chapterTitle, section: s.heading || s.chapterTitle, anchor: s.anchor };
}

/** Links [text](target) in a markdown text, targets made repo-relative when they point into docs. */
function links(md: string, from: string): { text: string; target: string }[] {
  const dir = from.slice(0, from.lastIndexOf("/") + 1);
  return [...md.matchAll(/\[([^\]]+)\]\(([^)\s]+)\)/g)].map((m) => ({
    text: m[1],
    target: /^[a-z]+:/.test(m[2]) ? m[2] : m[2].startsWith("#") ? from + m[2] : normalize(dir + m[2]),
  }));
}

function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "..") out.pop();
    else if (part !== "." && part !== "") out.push(part);
  }
  return out.join("/");
}

export function makeTools(lib: Library, runs: RunConfig): Tool[] {
  const search: Tool = {
    name: "search",
    alias: "s",
    description:
      "Ranked full-text search (BM25) over the RVM user guide (default) and the subsystem references. " +
      "Returns sections with a snippet (matches in **bold**) and an anchor (file#heading).",
    inputSchema: schema(
      {
        query: str("words to look for, e.g. 'witness chain'"),
        scope: { type: "string", description: "guide (default), reference, or all", enum: ["guide", "reference", "all"] },
        limit: { type: "integer", description: "results to return (default 8)", minimum: 1, maximum: 50 },
      },
      ["query"],
    ),
    call(a) {
      const query = a.query as string;
      if (!tokenize(query).length) throw new BadInput("search: the query has no searchable words");
      const scope = (a.scope as string) ?? "guide";
      const hits = lib.index.search(query, (i) => {
        const guide = lib.isGuide(lib.sections[i]);
        return scope === "all" || (scope === "guide") === guide;
      });
      return {
        query,
        scope,
        total: hits.length,
        results: hits.slice(0, (a.limit as number) ?? 8).map((h) => ({
          ...sectionRef(lib.sections[h.index]),
          score: Math.round(h.score * 1000) / 1000,
          snippet: snippet(lib.sections[h.index].text, query),
        })),
      };
    },
  };

  const nav: Tool = {
    name: "nav",
    alias: "n",
    description:
      "Table of contents of the guide (no arguments), one chapter's text (chapter: id like '05-witness', " +
      "its name 'witness' or number '5'), or one section of it (section: heading or anchor slug).",
    inputSchema: schema({
      chapter: str("chapter id, name or number; omit for the table of contents"),
      section: str("a heading or anchor slug within the chapter"),
    }),
    call(a) {
      if (a.chapter === undefined) {
        if (a.section !== undefined) throw new BadInput("nav: 'section' needs 'chapter'");
        return {
          guide: lib.chapters.filter((c) => c.kind === "guide").map((c) => ({
            id: c.id, title: c.title, file: c.file,
            sections: c.sections.filter((s) => s.level === 2).map((s) => ({ heading: s.heading, anchor: s.anchor })),
          })),
          reference: lib.chapters.filter((c) => c.kind === "reference").map((c) => ({ id: c.id, title: c.title, file: c.file })),
        };
      }
      const ch = findChapter(lib.chapters, a.chapter as string);
      if (!ch) throw new BadInput(`nav: no chapter '${a.chapter}' (call nav without arguments for the list)`);
      if (a.section === undefined)
        return { id: ch.id, title: ch.title, file: ch.file, text: ch.text };
      const key = slug(a.section as string);
      const s = ch.sections.find((x) => slug(x.heading) === key || x.anchor.endsWith("#" + key));
      if (!s) throw new BadInput(`nav: chapter ${ch.id} has no section '${a.section}'`);
      return { ...sectionRef(s), text: s.text };
    },
  };

  const glossary: Tool = {
    name: "glossary",
    alias: "g",
    description: "Looks a term up in the guide's glossary (no term: the list of terms).",
    inputSchema: schema({ term: str("a term, e.g. 'cut pressure'") }),
    call(a) {
      if (a.term === undefined) return { terms: lib.glossary.map((g) => g.term) };
      const t = (a.term as string).trim().toLowerCase();
      const key = (s: string) => s.toLowerCase().replace(/\s*\(.*\)$/, "");
      const exact = lib.glossary.find((g) => key(g.term) === t || g.term.toLowerCase() === t || g.term.toLowerCase().split(/[(),]\s*/).map((x) => x.trim()).includes(t));
      if (exact) return { term: exact.term, anchor: exact.anchor, definition: exact.text, see: links(exact.text, exact.anchor.split("#")[0]) };
      const near = lib.glossary.filter((g) => g.term.toLowerCase().includes(t) || t.includes(key(g.term))).map((g) => g.term);
      return { term: a.term, found: false, did_you_mean: near };
    },
  };

  const xref: Tool = {
    name: "xref",
    alias: "x",
    description:
      "Cross-references for a concept: its glossary entry, every guide and reference section that mentions it " +
      "(most mentions first), and the API declarations whose names or comments name it.",
    inputSchema: schema({ concept: str("a concept, e.g. 'epoch' or 'GRANT_ONCE'") }, ["concept"]),
    call(a) {
      const concept = (a.concept as string).trim();
      const terms = tokenize(concept);
      if (!terms.length) throw new BadInput("xref: the concept has no searchable words");
      const phrase = concept.toLowerCase();
      const count = (text: string) => text.toLowerCase().split(phrase).length - 1;
      const mentions = lib.sections
        .map((s) => ({ s, n: count(s.heading) * 3 + count(s.text) }))
        .filter((m) => m.n > 0)
        .sort((x, y) => y.n - x.n);
      const g = lib.glossary.filter((e) => e.term.toLowerCase().startsWith(phrase));
      const api = lib.api.filter((x) => x.name.toLowerCase().includes(phrase.replace(/\s+/g, "_")) || count(x.doc) > 0);
      return {
        concept,
        glossary: g.map((e) => ({ term: e.term, anchor: e.anchor, definition: plain(e.text) })),
        sections: mentions.slice(0, 25).map((m) => ({ ...sectionRef(m.s), kind: lib.isGuide(m.s) ? "guide" : "reference", mentions: m.n })),
        api: api.slice(0, 15).map((x) => ({ name: x.name, kind: x.kind, header: x.header, line: x.line })),
      };
    },
  };

  const api: Tool = {
    name: "api",
    alias: "a",
    description:
      "Looks up the C API, parsed from the doc comments of include/rvm/*.h when the server starts: an exact " +
      "name (rvm_cap_grant, struct rvm_witness_record, RVM_CAP_MAX_DEPTH) gives its declaration, comment, header " +
      "and line; other words give the best matches.",
    inputSchema: schema(
      {
        query: str("a name or words, e.g. 'rvm_witness_emit' or 'revoke subtree'"),
        header: str("only this header, e.g. 'cap.h'"),
        limit: { type: "integer", description: "matches to return (default 10)", minimum: 1, maximum: 100 },
      },
      ["query"],
    ),
    call(a) {
      const q = (a.query as string).trim();
      const header = a.header as string | undefined;
      const pool = header ? lib.api.filter((x) => x.header.endsWith("/" + header.replace(/^.*\//, ""))) : lib.api;
      if (header && !pool.length) throw new BadInput(`api: no header '${header}' in include/rvm`);
      const exact = pool.filter((x) => x.name === q || x.name === `struct ${q}` || x.name === `enum ${q}`);
      const full = (x: ApiItem) => ({ name: x.name, kind: x.kind, header: x.header, line: x.line, declaration: x.declaration, doc: x.doc });
      if (exact.length) return { query: q, exact: true, results: exact.map(full) };
      const limit = (a.limit as number) ?? 10;
      const sub = pool.filter((x) => x.name.toLowerCase().includes(q.toLowerCase()));
      const ranked = sub.length
        ? sub
        : lib.apiIndex.search(q).map((h) => lib.api[h.index]).filter((x) => pool.includes(x));
      return { query: q, exact: false, total: ranked.length, results: ranked.slice(0, limit).map(full) };
    },
  };

  const howto: Tool = {
    name: "howto",
    alias: "h",
    description: "Task-oriented search: the guide's 'I want to ...' answers that best match a task, with their steps.",
    inputSchema: schema(
      {
        task: str("what you want to do, e.g. 'verify a log on another machine'"),
        limit: { type: "integer", description: "answers to return (default 3)", minimum: 1, maximum: 20 },
      },
      ["task"],
    ),
    call(a) {
      const task = a.task as string;
      if (!tokenize(task).length) throw new BadInput("howto: the task has no searchable words");
      const hits = lib.howtoIndex.search(task);
      return {
        task,
        results: hits.slice(0, (a.limit as number) ?? 3).map((h) => {
          const s = lib.howtos[h.index];
          return { ...sectionRef(s), answer: s.text, links: links(s.text, s.anchor.split("#")[0]) };
        }),
      };
    },
  };

  const witness_audit: Tool = {
    name: "witness_audit",
    alias: "w",
    description:
      "Verifies a witness log with `rvm audit --json`: chain, checkpoint signatures, a tampered record's exact " +
      "seq and byte offset. path: a log file or a run directory (its witness.log), inside an allowed run directory.",
    inputSchema: schema(
      {
        path: str("witness log or run directory, absolute or relative to the first allowed run directory"),
        pub: str("Ed25519 public key file to trust (default: witness.pub next to the log)"),
        hmac_key: str("HMAC key file for HMAC-signed logs"),
        require_clean: { type: "boolean", description: "a log without its shutdown checkpoint is a finding" },
        trust_log_key: { type: "boolean", description: "no trusted key: check with the key the log names (UNTRUSTED)" },
      },
      ["path"],
    ),
    call: (a) => witnessAudit(runs, a as never),
  };

  const witness_query: Tool = {
    name: "witness_query",
    alias: "q",
    description:
      "Who did what to X, and when: witness records matching every filter given, from `rvm query --json` " +
      "(records are verified while read).",
    inputSchema: schema(
      {
        path: str("witness log or run directory inside an allowed run directory"),
        actor: { type: "integer", description: "partition or agent id (0 = the kernel)", minimum: 0, maximum: 4294967295 },
        target: str("object id, decimal or 0x-hex"),
        action: str("dotted action name, e.g. cap.grant"),
        from: str("time since boot, e.g. 1500, 20us, 3ms"),
        to: str("time since boot, inclusive"),
        limit: { type: "integer", description: "records to return (default 200)", minimum: 1, maximum: 100000 },
      },
      ["path"],
    ),
    call: (a) => witnessQuery(runs, a as never),
  };

  const run_status: Tool = {
    name: "run_status",
    alias: "r",
    description:
      "State of an `rvm run`: its status.json (partitions, scores, recent splits/merges, rewritten while it runs; " +
      "status_age_ms says how fresh) and the audit of its witness log so far.",
    inputSchema: schema({ run_dir: str("run directory inside an allowed run directory") }, ["run_dir"]),
    call: (a) => runStatus(runs, a.run_dir as string),
  };

  return [search, nav, xref, glossary, api, howto, witness_audit, witness_query, run_status];
}
