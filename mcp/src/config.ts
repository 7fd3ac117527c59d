// mcp/src/config.ts - where the repository, the rvm binary and the allowed run directories are.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Library, makeTools, type Tool } from "./tools.js";
import { allowedDirs, findRvm } from "./runs.js";

/** The repository root: --root, else $RVM_DOCS_ROOT, else the checkout this server lives in. */
export function repoRoot(given?: string): string {
  if (given) return resolve(given);
  if (process.env.RVM_DOCS_ROOT) return resolve(process.env.RVM_DOCS_ROOT);
  // dist/src/config.js -> mcp/ -> the repository
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
}

export interface Options {
  root?: string;
  runDirs: string[];
  rest: string[];
}

/** Takes --root DIR and --run-dir DIR (repeatable) out of argv; the rest is returned. */
export function parseOptions(argv: string[]): Options {
  const o: Options = { runDirs: [], rest: [] };
  for (let i = 0; i < argv.length; i++) {
    if ((argv[i] === "--root" || argv[i] === "--run-dir") && i + 1 >= argv.length)
      throw new Error(`${argv[i]} needs a directory`);
    if (argv[i] === "--root") o.root = argv[++i];
    else if (argv[i] === "--run-dir") o.runDirs.push(argv[++i]);
    else o.rest.push(argv[i]);
  }
  return o;
}

export function setup(o: Options): Tool[] {
  const root = repoRoot(o.root);
  return makeTools(new Library(root), { rvm: findRvm(root), allowed: allowedDirs(root, o.runDirs) });
}
