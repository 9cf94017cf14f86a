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
  resourcesRead: 'resources/read',
  promptsGet: 'prompts/get',
  complete: 'completion/complete',
  elicitationComplete: 'notifications/elicitation/complete',
} as const;

/**
 * The methods whose request runs the call stages (pipeline.ts), each reaching one target: a
 * tool, or an upstream's resource, prompt or completion (tools/surface.ts).
 */
export const CALL_METHODS = [
  METHOD.toolsCall,
  METHOD.resourcesRead,
  METHOD.promptsGet,
  METHOD.complete,
] as const;
export type CallMethod = (typeof CALL_METHODS)[number];
export const isCallMethod = (method: unknown): method is CallMethod =>
  (CALL_METHODS as readonly unknown[]).includes(method);

/** Request headers read by the request stages (lower case, as `Headers` reports them). */
export const HEADER = {
  sessionId: 'mcp-session-id',
  authorization: 'authorization',
  contentLength: 'content-length',
} as const;
