// mcp/test/server.test.ts - an SDK client starts the server over stdio and calls every tool with good and bad arguments.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url)); // mcp/dist/test
const mcp = resolve(here, "../..");
const root = resolve(mcp, "..");
const rvm = process.env.RVM_BIN ?? join(root, "build/host/tools/rvm/rvm");
const work = mkdtempSync(join(tmpdir(), "rvm-mcp-test-"));
const runs = join(work, "runs");
let client: Client;
let status: Record<string, unknown>;

type Result = Record<string, any>;

async function call(name: string, args: Record<string, unknown>): Promise<Result> {
  const r = await client.callTool({ name, arguments: args });
  assert.ok(!r.isError, `${name} failed: ${JSON.stringify(r.content)}`);
  const content = r.content as { type: string; text: string }[];
  return JSON.parse(content[0].text) as Result;
}

/** The call must fail with a JSON-RPC error (invalid params), never a crash or a result. */
async function rejects(name: string, args: unknown, pattern: RegExp): Promise<void> {
  await assert.rejects(
    client.callTool({ name, arguments: args as Record<string, unknown> }),
    (e: unknown) => {
      assert.ok(e instanceof McpError, `not an McpError: ${e}`);
      assert.equal(e.code, ErrorCode.InvalidParams, e.message);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

before(async () => {
  mkdirSync(runs);
  execFileSync(rvm, ["run", "--out", join(runs, "good"), "--checkpoint-every", "4"]);
  // A real run of agents: status.json as `rvm run` leaves it when it ends.
  execFileSync(rvm, ["run", join(root, "examples/sensor_fusion.json"), "--out", join(runs, "real"), "--seconds", "1", "--quiet"]);
  // A tampered copy: one bit of record 2's target field flipped.
  mkdirSync(join(runs, "bad"));
  const log = readFileSync(join(runs, "good/witness.log"));
  log[128 + 2 * 64 + 24] ^= 0x04;
  writeFileSync(join(runs, "bad/witness.log"), log);
  copyFileSync(join(runs, "good/witness.pub"), join(runs, "bad/witness.pub"));
  // A live-looking run: status.json as `rvm run` rewrites it.
  mkdirSync(join(runs, "live"));
  copyFileSync(join(runs, "good/witness.log"), join(runs, "live/witness.log"));
  copyFileSync(join(runs, "good/witness.pub"), join(runs, "live/witness.pub"));
  // status.json as `rvm run` rewrites it while it runs (tools/rvm/run_view.c).
  status = {
    running: true, t: 1.5, cpus: 2, witness_records: 812, messages: 3000, msgs_per_s: 2000.0,
    splits: 1, merges: 0, migrations: 1, recoveries: 0, epochs: 15, degraded: false,
    partitions: [
      { slot: 1, cpu: 0, coherence: 0.91, pressure: 0.12, migrating: false, agents: ["sensor", "filter"] },
      { slot: 2, cpu: 1, coherence: 0.88, pressure: 0.05, migrating: false, agents: ["planner"] },
    ],
    recent: [{ t: 1.2, kind: "split", text: "P1 split: planner -> P2" }],
  };
  writeFileSync(join(runs, "live/status.json"), JSON.stringify(status));
  mkdirSync(join(runs, "dead"));
  writeFileSync(join(runs, "dead/status.json"), JSON.stringify(status));
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(runs, "dead/status.json"), old, old);
  // Files outside the allowed directory, one reached through a symlink inside it.
  writeFileSync(join(work, "secret.log"), "not yours");
  symlinkSync(join(work, "secret.log"), join(runs, "escape.log"));
  client = new Client({ name: "rvm-mcp-test", version: "0.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [join(mcp, "dist/src/server.js"), "--run-dir", runs],
      env: { ...process.env, RVM_BIN: rvm } as Record<string, string>,
      stderr: "inherit",
    }),
  );
});

after(async () => {
  await client?.close();
  rmSync(work, { recursive: true, force: true });
});

describe("tools", () => {
  it("lists every tool with an object schema", async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, ["api", "glossary", "howto", "nav", "run_status", "search", "witness_audit", "witness_query", "xref"]);
    for (const t of tools) assert.equal(t.inputSchema.type, "object");
  });

  it("search ranks the witness chapter first for 'witness chain'", async () => {
    const r = await call("search", { query: "witness chain" });
    assert.ok(r.results.length > 0);
    assert.equal(r.results[0].chapter, "05-witness");
    assert.match(r.results[0].anchor, /^docs\/guide\/05-witness\.md#/);
    assert.match(r.results[0].snippet, /\*\*(witness|chain)/i);
    const ref = await call("search", { query: "witness chain", scope: "reference", limit: 2 });
    assert.ok(ref.results.every((x: Result) => !x.anchor.startsWith("docs/guide/")));
    assert.ok(ref.results.length <= 2);
  });

  it("search rejects bad arguments", async () => {
    await rejects("search", {}, /missing required argument 'query'/);
    await rejects("search", { query: 42 }, /must be a string/);
    await rejects("search", { query: "x", scope: "everywhere" }, /must be one of/);
    await rejects("search", { query: "x", limit: 0 }, />= 1/);
    await rejects("search", { query: "x", colour: "red" }, /unknown argument 'colour'/);
    await rejects("search", { query: "?!" }, /no searchable words/);
  });

  it("nav gives the table of contents, a chapter and a section", async () => {
    const toc = await call("nav", {});
    assert.ok(toc.guide.some((c: Result) => c.id === "01-quick-start"));
    const ch = await call("nav", { chapter: "witness" });
    assert.equal(ch.id, "05-witness");
    assert.match(ch.text, /# The witness log and audit/);
    const sec = await call("nav", { chapter: "5", section: "Keys" });
    assert.match(sec.text, /rvm keygen/);
    await rejects("nav", { chapter: "no-such-chapter" }, /no chapter/);
    await rejects("nav", { chapter: "witness", section: "nowhere" }, /has no section/);
    await rejects("nav", { section: "Keys" }, /needs 'chapter'/);
  });

  it("glossary finds a term and suggests near misses", async () => {
    const g = await call("glossary", { term: "torn tail" });
    assert.equal(g.term, "Torn tail");
    assert.match(g.definition, /crash/);
    assert.ok(g.see.some((l: Result) => l.target === "docs/guide/05-witness.md"));
    const near = await call("glossary", { term: "tail" });
    assert.equal(near.found, false);
    assert.ok(near.did_you_mean.includes("Torn tail"));
    const all = await call("glossary", {});
    assert.ok(all.terms.length > 20);
    await rejects("glossary", { term: ["a"] }, /must be a string/);
  });

  it("xref lists the glossary entry, sections and API for a concept", async () => {
    const x = await call("xref", { concept: "checkpoint" });
    assert.deepEqual(x.glossary.map((g: Result) => g.term), ["Checkpoint (recovery)", "Checkpoint (witness)"]);
    const e = await call("xref", { concept: "epoch" });
    assert.ok(e.glossary.length >= 2, "both epoch entries");
    assert.ok(x.sections.some((s: Result) => s.chapter === "05-witness"));
    assert.ok(x.api.length > 0);
    await rejects("xref", {}, /missing required argument 'concept'/);
  });

  it("api finds a function declared in the headers, with its comment", async () => {
    const a = await call("api", { query: "rvm_witness_emit" });
    assert.equal(a.exact, true);
    const fn = a.results[0];
    assert.equal(fn.kind, "function");
    assert.equal(fn.header, "include/rvm/witness.h");
    assert.match(fn.declaration, /rvm_witness_emit\s*\(/);
    assert.ok(fn.doc.length > 0);
    const line = readFileSync(join(root, fn.header), "utf8").split("\n")[fn.line - 1];
    assert.match(line, /rvm_witness_emit/);
    const s = await call("api", { query: "struct rvm_witness_record" });
    assert.equal(s.results[0].kind, "struct");
    const words = await call("api", { query: "revoke subtree", limit: 5 });
    assert.ok(words.results.some((r: Result) => /revoke/.test(r.name)));
    await rejects("api", { query: "x", header: "nope.h" }, /no header/);
  });

  it("howto answers a task from the 'I want to' chapter", async () => {
    const h = await call("howto", { task: "verify a log on another machine" });
    assert.match(h.results[0].section, /verify a log on another machine/i);
    assert.ok(h.results[0].links.length > 0);
    await rejects("howto", { task: "" }, /is empty/);
  });

  it("witness_audit verifies a good log and reports a tampered copy", async () => {
    const good = await call("witness_audit", { path: "good" });
    assert.equal(good.verdict, "OK");
    assert.equal(good.exit, 0);
    assert.equal(good.clean, true);
    const bad = await call("witness_audit", { path: join(runs, "bad/witness.log") });
    assert.equal(bad.verdict, "TAMPERED");
    assert.equal(bad.exit, 1);
    assert.equal(bad.error.first_bad_seq, 2);
    assert.equal(bad.error.code, "RVM_E_TAMPER");
  });

  it("witness_audit refuses paths outside the allowed run directories", async () => {
    await rejects("witness_audit", { path: "/etc/passwd" }, /outside the allowed run directories/);
    await rejects("witness_audit", { path: "../secret.log" }, /outside the allowed run directories/);
    await rejects("witness_audit", { path: "escape.log" }, /outside the allowed run directories/);
    await rejects("witness_audit", { path: "good", pub: "/etc/hostname" }, /outside/);
    await rejects("witness_audit", { path: "missing" }, /no such file/);
    await rejects("witness_audit", { path: 7 }, /must be a string/);
    await rejects("witness_audit", { path: "good", require_clean: "yes" }, /must be a boolean/);
  });

  it("witness_query filters records", async () => {
    const q = await call("witness_query", { path: "good", action: "boot.phase" });
    assert.ok(q.matched >= 2);
    assert.ok(q.records.every((r: Result) => r.action === "boot.phase"));
    assert.equal(q.verified, true);
    const one = await call("witness_query", { path: "good", limit: 1 });
    assert.equal(one.records.length, 1);
    assert.equal(one.truncated, true);
    const bad = await call("witness_query", { path: "bad" });
    assert.equal(bad.verified, false);
    assert.match(bad.finding, /first bad seq 2/);
    await rejects("witness_query", { path: "good", action: "no.such" }, /unknown action/);
    await rejects("witness_query", { path: "good", actor: -1 }, />= 0/);
    await rejects("witness_query", { path: "good", actor: 1.5 }, /integer/);
  });

  it("run_status reads status.json and audits the run", async () => {
    writeFileSync(join(runs, "live/status.json"), JSON.stringify(status)); // a live run rewrites it
    const live = await call("run_status", { run_dir: "live" });
    assert.equal(live.running, true);
    assert.equal(live.stale, false);
    assert.equal(live.partitions, 2);
    assert.equal(live.status.partitions[0].agents[1], "filter");
    assert.equal(live.status.recent[0].kind, "split");
    assert.ok(live.status_age_ms >= 0);
    assert.equal(live.audit.verdict, "OK");
    const dead = await call("run_status", { run_dir: "dead" });
    assert.equal(dead.running, false);
    assert.equal(dead.stale, true);
    const real = await call("run_status", { run_dir: join(runs, "real") });
    assert.equal(real.running, false, "the run has ended");
    assert.equal(real.status.running, false);
    assert.ok(real.partitions >= 1 && real.partitions === real.status.partitions.length);
    assert.ok(Array.isArray(real.status.recent));
    assert.equal(real.audit.verdict, "OK");
    assert.ok(real.audit.actions["agent.spawn"] >= 8, "the manifest's agents were spawned");
    // How many merges a one-second run gets to depends on the machine's load; the two tools agree.
    const merges = await call("witness_query", { path: "real", action: "partition.merge" });
    assert.equal(merges.matched, real.audit.actions["partition.merge"] ?? 0);
    // rvm run without a manifest boots and shuts down: it leaves a log but no status.json.
    const bare = await call("run_status", { run_dir: "good" });
    assert.equal(bare.running, false);
    assert.equal(bare.status, null);
    assert.match(bare.note, /no status.json/);
    assert.equal(bare.audit.verdict, "OK");
    const none = await call("run_status", { run_dir: "bad" }); // a copied log, no status.json
    assert.equal(none.status, null);
    assert.equal(none.running, false);
    assert.match(none.note, /no status.json/);
    assert.equal(none.audit.verdict, "TAMPERED");
    await rejects("run_status", { run_dir: "/tmp" }, /outside/);
    await rejects("run_status", { run_dir: "good/witness.log" }, /not a directory/);
  });

  it("an unknown tool is a JSON-RPC error", async () => {
    await rejects("rm_rf", {}, /unknown tool 'rm_rf'/);
  });
});

describe("cli", () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [join(mcp, "dist/src/cli.js"), "--run-dir", runs, ...args], {
      encoding: "utf8",
      env: { ...process.env, RVM_BIN: rvm },
    });

  it("answers the same verbs, with one-letter aliases", () => {
    const s = cli("s", "witness", "chain", "--limit", "1");
    assert.equal(s.status, 0, s.stderr);
    assert.equal(JSON.parse(s.stdout).results[0].chapter, "05-witness");
    const a = cli("api", "rvm_witness_emit");
    assert.equal(JSON.parse(a.stdout).results[0].header, "include/rvm/witness.h");
    const w = cli("w", "bad");
    assert.equal(JSON.parse(w.stdout).verdict, "TAMPERED");
  });

  it("exits 2 on bad usage", () => {
    assert.equal(cli("frobnicate").status, 2);
    assert.equal(cli("s").status, 2);
    assert.equal(cli("s", "x", "--limit", "many").status, 2);
    assert.equal(cli("w", "/etc/passwd").status, 2);
  });
});
