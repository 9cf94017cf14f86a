// Target (a): a plain Hono JSON endpoint answering with a fixed tool result. It measures what
// this machine's HTTP stack can do at all: the practical ceiling for the other two.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const result = {
  jsonrpc: '2.0',
  id: 1,
  result: {
    content: [{ type: 'text', text: 'Found 10 note(s) about benchmark' }],
    structuredContent: { items: [] },
  },
};
const app = new Hono();
app.post('/mcp', async (c) => {
  await c.req.json();
  return c.json(result);
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`ready ${info.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
