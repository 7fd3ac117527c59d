#!/usr/bin/env node
// mcp/src/cli.ts - the same tools from the shell: `rvm-docs VERB [ARG] [--key value ...]`, one-letter aliases.
import { parseOptions, setup } from "./config.js";
import { BadInput } from "./errors.js";
import { checkArgs, type Tool } from "./tools.js";

// The argument a bare word fills, per verb.
const POSITIONAL: Record<string, string> = {
  search: "query", nav: "chapter", xref: "concept", glossary: "term", api: "query", howto: "task",
  witness_audit: "path", witness_query: "path", run_status: "run_dir",
};

function usage(tools: Tool[]): string {
  return (
    "usage: rvm-docs [--root DIR] [--run-dir DIR]... VERB [WORDS] [--ARG VALUE]...\n" +
    tools.map((t) => `  ${t.alias}  ${t.name.padEnd(14)} ${Object.keys(t.inputSchema.properties).map((k) => (k === POSITIONAL[t.name] ? k.toUpperCase() : `--${k.replace(/_/g, "-")}`)).join(" ")}`).join("\n") +
    "\nThe answer is JSON on stdout; exit 0 ok, 2 bad usage or input, 1 a tool failure.\n"
  );
}

/** Turns `WORDS --k v --flag` into the tool's argument object (integers and booleans by schema). */
function toArgs(tool: Tool, words: string[]): Record<string, unknown> {
  const props = tool.inputSchema.properties;
  const args: Record<string, unknown> = {};
  const bare: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.startsWith("--")) {
      bare.push(w);
      continue;
    }
    const key = w.slice(2).replace(/-/g, "_");
    const p = props[key];
    if (!p) throw new BadInput(`${tool.name}: unknown option ${w}`);
    if (p.type === "boolean") {
      args[key] = true;
      continue;
    }
    if (i + 1 >= words.length) throw new BadInput(`${tool.name}: ${w} needs a value`);
    const v = words[++i];
    args[key] = p.type === "integer" ? (/^-?\d+$/.test(v) ? Number(v) : v) : v;
  }
  if (bare.length) {
    if (!POSITIONAL[tool.name]) throw new BadInput(`${tool.name}: takes no bare words`);
    args[POSITIONAL[tool.name]] = bare.join(" ");
  }
  return args;
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const tools = setup(opts);
  const [verb, ...words] = opts.rest;
  if (!verb || verb === "help" || verb === "--help") {
    process.stdout.write(usage(tools));
    return verb ? 0 : 2;
  }
  const tool = tools.find((t) => t.name === verb || t.alias === verb || t.name.replace("_", "-") === verb);
  if (!tool) {
    process.stderr.write(`rvm-docs: unknown verb '${verb}'\n${usage(tools)}`);
    return 2;
  }
  try {
    const out = await tool.call(checkArgs(tool, toArgs(tool, words)));
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
    return 0;
  } catch (e) {
    process.stderr.write(`rvm-docs: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof BadInput ? 2 : 1;
  }
}

main().then(
  (rc) => process.exit(rc),
  (e) => {
    process.stderr.write(`rvm-docs: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
