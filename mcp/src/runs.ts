// mcp/src/runs.ts - witness and run tools: paths confined to allowed run directories, answers from `rvm ... --json`.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, resolve, sep } from "node:path";
import { BadInput } from "./errors.js";

export interface RunConfig {
  rvm: string; // the rvm binary
  allowed: string[]; // real paths of the allowed run directories
}

/** The rvm binary: $RVM_BIN, else the host build's, else `rvm` from PATH. */
export function findRvm(root: string): string {
  if (process.env.RVM_BIN) return process.env.RVM_BIN;
  const built = join(root, "build/host/tools/rvm/rvm");
  return existsSync(built) ? built : "rvm";
}

/**
 * Allowed run directories: the given list, else $RVM_MCP_RUN_DIRS (colon-separated), else
 * the repository's run/ (where `make run` writes). Directories that do not exist yet are kept
 * by their resolved path so a later run can fill them.
 */
export function allowedDirs(root: string, given: string[]): string[] {
  const env = process.env.RVM_MCP_RUN_DIRS;
  const list = given.length ? given : env ? env.split(":").filter(Boolean) : [join(root, "run")];
  return list.map((d) => {
    const abs = resolve(d);
    try {
      return realpathSync(abs);
    } catch {
      return abs;
    }
  });
}

/**
 * Resolves a path the client gave (absolute, or relative to the first allowed directory),
 * following symlinks, and refuses anything outside every allowed directory.
 */
export function confine(cfg: RunConfig, p: string, what: string): string {
  if (p.includes("\0")) throw new BadInput(`${what}: path contains a NUL byte`);
  if (!cfg.allowed.length) throw new BadInput(`${what}: no run directory is allowed`);
  const abs = isAbsolute(p) ? p : resolve(cfg.allowed[0], p);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new BadInput(`${what}: ${p}: no such file or directory`);
  }
  const inside = cfg.allowed.some((d) => real === d || real.startsWith(d.endsWith(sep) ? d : d + sep));
  if (!inside)
    throw new BadInput(`${what}: ${p} is outside the allowed run directories (${cfg.allowed.join(", ")})`);
  return real;
}

/** A run directory or a log file: the log file (DIR/witness.log for a directory). */
function logPath(cfg: RunConfig, p: string): string {
  const real = confine(cfg, p, "path");
  if (statSync(real).isDirectory()) return confine(cfg, join(real, "witness.log"), "path");
  return real;
}

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cfg: RunConfig, args: string[]): Promise<Exec> {
  return new Promise((done, fail) => {
    execFile(cfg.rvm, args, { maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      if (err && code === -1) fail(new Error(`cannot run ${cfg.rvm}: ${err.message}`));
      else done({ code, stdout, stderr });
    });
  });
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what}: the rvm CLI did not print JSON: ${text.slice(0, 200)}`);
  }
}

export interface AuditArgs {
  path: string;
  pub?: string;
  hmac_key?: string;
  require_clean?: boolean;
  trust_log_key?: boolean;
}

/** `rvm audit LOG --json`: the verdict object, with the exit status the CLI gave. */
export async function witnessAudit(cfg: RunConfig, a: AuditArgs): Promise<unknown> {
  const args = ["audit", logPath(cfg, a.path), "--json"];
  if (a.pub) args.push("--pub", confine(cfg, a.pub, "pub"));
  if (a.hmac_key) args.push("--hmac-key", confine(cfg, a.hmac_key, "hmac_key"));
  if (a.require_clean) args.push("--require-clean");
  if (a.trust_log_key) args.push("--trust-log-key");
  const r = await run(cfg, args);
  const out = r.stdout.trim() ? (parseJson("audit", r.stdout) as Record<string, unknown>) : {};
  return { ...out, exit: r.code, stderr: r.stderr.trim() || undefined };
}

export interface QueryArgs {
  path: string;
  actor?: number;
  target?: string;
  action?: string;
  from?: string;
  to?: string;
  limit?: number;
}

/** `rvm query LOG --json` with the filters given: matching records, at most `limit`. */
export async function witnessQuery(cfg: RunConfig, a: QueryArgs): Promise<unknown> {
  const args = ["query", logPath(cfg, a.path), "--json"];
  if (a.actor !== undefined) args.push("--actor", String(a.actor));
  if (a.target !== undefined) args.push("--target", a.target);
  if (a.action !== undefined) args.push("--action", a.action);
  if (a.from !== undefined) args.push("--from", a.from);
  if (a.to !== undefined) args.push("--to", a.to);
  const r = await run(cfg, args);
  if (r.code === 2) throw new BadInput(`rvm query: ${r.stderr.trim()}`);
  const records = r.stdout.trim() ? (parseJson("query", r.stdout) as unknown[]) : [];
  const limit = a.limit ?? 200;
  return {
    matched: records.length,
    records: records.slice(0, limit),
    truncated: records.length > limit,
    verified: r.code === 0,
    finding: r.code === 1 ? r.stderr.trim() : undefined,
  };
}

/**
 * The live state of an `rvm run`: RUNDIR/status.json (rewritten a few times a second while it
 * runs) with its age, plus the audit of the run's witness log so far.
 */
export async function runStatus(cfg: RunConfig, dir: string): Promise<unknown> {
  const real = confine(cfg, dir, "run_dir");
  if (!statSync(real).isDirectory()) throw new BadInput(`run_dir: ${dir} is not a directory`);
  const statusFile = join(real, "status.json");
  let status: unknown = null;
  let ageMs: number | null = null;
  if (existsSync(statusFile)) {
    confine(cfg, statusFile, "run_dir");
    status = parseJson("status.json", readFileSync(statusFile, "utf8"));
    ageMs = Math.max(0, Date.now() - statSync(statusFile).mtimeMs);
  }
  const hasLog = existsSync(join(real, "witness.log"));
  const st = status && typeof status === "object" ? (status as Record<string, unknown>) : null;
  const says = st?.running === true;
  // `rvm run` rewrites status.json a few times a second: one that says running but has not
  // changed for STALE_MS belongs to a run that was killed before it could write its last one.
  const live = says && ageMs !== null && ageMs < STALE_MS;
  return {
    run_dir: real,
    status,
    status_age_ms: ageMs,
    running: live,
    stale: says && !live,
    partitions: Array.isArray(st?.partitions) ? (st!.partitions as unknown[]).length : null,
    audit: hasLog ? await witnessAudit(cfg, { path: real }) : null,
    note: status ? undefined : "no status.json in this directory: not an `rvm run` directory, or one that wrote none",
  };
}

const STALE_MS = 5000;
