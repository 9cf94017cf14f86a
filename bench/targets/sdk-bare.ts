// Target (b): the MCP SDK v2's own HTTP handler serving the same memory tools over the same
// SQLite store, with no authentication and no controls: what a plain SDK server costs.
import { serve } from '@hono/node-server';
import { createMcpHandler, Server, type CallToolResult } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { openSeededTools, principal } from './seeded-tools.js';

const { tools, removeStore } = await openSeededTools('sdk');

// The same tools and the same argument checks, registered on the SDK's server with nothing else.
const handler = createMcpHandler(() => {
  const server = new Server({ name: 'bare', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', () => ({
    tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
  }));
  server.setRequestHandler('tools/call', async (request) => {
    const tool = tools.find((t) => t.name === request.params.name)!;
    const args = tool.checkArgs(request.params.arguments ?? {});
    if (!args.ok) return { content: [{ type: 'text', text: 'invalid arguments' }], isError: true };
    const out = await tool.execute(args.value, {
      principal,
      requestId: 'bench',
      signal: new AbortController().signal,
    });
    return { content: out.content, structuredContent: out.structured } as CallToolResult;
  });
  return server;
});
const app = new Hono();
app.all('/mcp', (c) => handler.fetch(c.req.raw));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`ready ${info.port}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => {
    removeStore();
    process.exit(0);
  });
});
