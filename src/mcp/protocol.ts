/**
 * The protocol constants of /mcp in one place: the methods the pipeline acts on, the header
 * names it reads, the server's identity, and (from wire/, shared with http/) the JSON-RPC codes.
 */
export { JSON_RPC } from '../wire/index.js';

/** The server's name and version, in initialize results and the 2026-07-28 `_meta`. */
export const SERVER_INFO = { name: 'portcullis', version: '0.1.0' } as const;

/** Methods the HTTP layer routes itself before the SDK (pipeline.ts). */
export const METHOD = {
  initialize: 'initialize',
  toolsCall: 'tools/call',
  elicitationComplete: 'notifications/elicitation/complete',
} as const;

/** Request headers read by the request stages (lower case, as `Headers` reports them). */
export const HEADER = {
  sessionId: 'mcp-session-id',
  authorization: 'authorization',
  contentLength: 'content-length',
} as const;
