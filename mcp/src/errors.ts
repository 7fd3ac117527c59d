// mcp/src/errors.ts - the error a tool throws for bad input; the server turns it into JSON-RPC -32602.
export class BadInput extends Error {}
