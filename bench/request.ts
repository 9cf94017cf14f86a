/** The one request every target is measured with: a 2026-07-28 tools/call of memory_search. */
export const TOOL_CALL_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'memory_search',
    arguments: { query: 'benchmark' },
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});

export const TOOL_CALL_HEADERS = {
  accept: 'application/json, text/event-stream',
  'content-type': 'application/json',
  'mcp-method': 'tools/call',
  'mcp-name': 'memory_search',
  'mcp-protocol-version': '2026-07-28',
};

/** What bench/load.js prints for one run (autocannon's figures, latency in ms). */
export interface LoadResult {
  readonly requests: number;
  readonly total: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

/** Notes every target serves, so the same search does the same work everywhere. */
export const SEED_NOTES = Array.from({ length: 50 }, (_, i) => ({
  content: `Note ${i}: ${i % 5 === 0 ? 'benchmark ' : ''}lorem ipsum dolor sit amet, consectetur adipiscing elit.`,
  title: `note ${i}`,
}));
