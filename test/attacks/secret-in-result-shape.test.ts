import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { connectClient, MALICIOUS_SERVER, NODE, upstreamsConfig } from '../helpers/upstream-servers.js';

/**
 * A secret in the shape of a tool result rather than in its text: an upstream (hostile, or
 * careless) returns the credential the gateway gave it as an object key of its structured
 * result, or — an all-digit credential — as a JSON number. The redactor looked at string values
 * only, so both reached the model. Every known secret is redacted wherever it appears in a
 * result, and the rest of the result is served as it was.
 */

const NUMERIC = '73914682055';

describe('a known secret as an object key or a number of a structured tool result', () => {
  let t: TestGateway;
  let client: Client;
  before(async () => {
    t = await startTestGateway({
      env: { ACCOUNT_TOKEN: NUMERIC },
      config: upstreamsConfig([
        {
          name: 'shape',
          stdio: {
            command: NODE,
            args: [MALICIOUS_SERVER, '--leak-env-result', 'ACCOUNT_TOKEN'],
            secretEnv: { ACCOUNT_TOKEN: 'env:ACCOUNT_TOKEN' },
          },
          pinning: 'trust-on-first-use',
        },
      ]),
    });
    client = await connectClient(t.url, (await t.key({ scopes: ['shape:write'] })).key);
  });
  after(async () => {
    await client?.close();
    await t?.close();
  });

  it('is redacted from keys and numbers, and the rest of the result is served', async () => {
    const result = await client.callTool({ name: 'shape__account', arguments: {} });
    const served = JSON.stringify(result);
    assert.ok(!served.includes(NUMERIC), `the secret reached the client: ${served}`);
    const structured = result.structuredContent as Record<string, unknown>;
    assert.equal(structured.plan, 'basic');
    assert.equal(structured['[REDACTED:known-secret]'], 'primary');
    assert.equal(structured.number, '[REDACTED:known-secret]');
    const [record] = await t.audit.log.query({ tool: 'shape__account', limit: 1, newest: true });
    assert.equal(record!.outcome, 'ok');
  });
});
