import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { TestGateway } from './gateway.js';

/** The stdio server whose `touch` tool announces a change of a file resource (compiled fixture). */
export const FILE_RESOURCE_SERVER = path.resolve(import.meta.dirname, '../fixtures/file-resource-server.js');
export const OWN_FILE = 'file:///srv/docs/public/readme.txt';
export const OWN_FILE_URI = `portcullis://files/${OWN_FILE}`;
export const FILE_SCOPES = ['files:resources', 'files:read'];

/** A 2025-11-25 session (it declares elicitation, so the gateway keeps one) and the updates it hears. */
export async function resourceSubscriber(t: TestGateway, key: string) {
  const client = new Client({ name: 'subscriber', version: '1.0.0' }, { capabilities: { elicitation: {} } });
  const updates: string[] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
  await client.connect(
    new StreamableHTTPClientTransport(new URL(t.url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return { client, updates };
}
