// Target (a′): the limit of the work. A minimal Hono endpoint that parses the same JSON-RPC
// request, checks the arguments with the tool's own schema and calls the same memory_search on
// the same SQLite store, then answers the JSON-RPC result: no MCP SDK, no controls.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { profileOnSignal } from './profile-hook.js';
import { openSeededTools, principal } from './seeded-tools.js';

const { tools, removeStore } = await openSeededTools('hono-tool');
const saveProfile = profileOnSignal();

interface Call {
  id: string | number;
  method: string;
  params?: { name?: string; arguments?: unknown };
}
const app = new Hono();
app.post('/mcp', async (c) => {
  const msg = await c.req.json<Call>();
  const tool = tools.find((t) => t.name === msg.params?.name);
  if (msg.method !== 'tools/call' || !tool) {
    return c.json({ jsonrpc: '2.0', id: msg.id, error: { code: -32602, message: 'unknown tool' } });
  }
  const args = tool.checkArgs(msg.params?.arguments ?? {});
  if (!args.ok) {
    return c.json({
      jsonrpc: '2.0',
      id: msg.id,
      result: { content: [{ type: 'text', text: 'invalid arguments' }], isError: true },
    });
  }
  const out = await tool.execute(args.value, {
    principal,
    requestId: 'bench',
    signal: new AbortController().signal,
  });
  return c.json({
    jsonrpc: '2.0',
    id: msg.id,
    result: { content: out.content, structuredContent: out.structured },
  });
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`ready ${info.port}\n`);
});
process.on('SIGTERM', () => {
  void saveProfile().then(() =>
    server.close(() => {
      removeStore();
      process.exit(0);
    }),
  );
});
