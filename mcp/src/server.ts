#!/usr/bin/env node
// mcp/src/server.ts - the RVM documentation MCP server over stdio (low-level SDK Server: bad input is a JSON-RPC error).
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { parseOptions, setup } from "./config.js";
import { BadInput } from "./errors.js";
import { checkArgs } from "./tools.js";

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.rest.length) throw new Error(`unknown arguments: ${opts.rest.join(" ")} (takes --root DIR, --run-dir DIR)`);
  const tools = setup(opts);
  const server = new Server({ name: "rvm-docs", version: "0.1.0" }, { capabilities: { tools: {} } });

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const tool = tools.find((t) => t.name === req.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool '${req.params.name}' (tools: ${tools.map((t) => t.name).join(", ")})`);
    try {
      const result = await tool.call(checkArgs(tool, req.params.arguments));
      return { content: [{ type: "text", text: JSON.stringify(result, null, 2) }], structuredContent: result as Record<string, unknown> };
    } catch (e) {
      if (e instanceof BadInput) throw new McpError(ErrorCode.InvalidParams, e.message);
      throw new McpError(ErrorCode.InternalError, e instanceof Error ? e.message : String(e));
    }
  });

  await server.connect(new StdioServerTransport());
}

main().catch((e) => {
  process.stderr.write(`rvm-docs-mcp: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
