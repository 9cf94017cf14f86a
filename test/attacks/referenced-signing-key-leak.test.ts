import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateSigningKey } from '../../src/oauth/index.js';
import { legacyToolCall } from '../helpers/audit-records.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * The redactor scrubs the token-signing keys' private parts from everything that leaves the
 * gateway, because a model that can read them through some tool (a file reader, a note, an
 * upstream echoing its environment) is one step from minting tokens. With the key set taken
 * from a secret reference (`keys.tokenSigning`) there is no key file to learn them from: they
 * must be learnt from the reference, or the scrub silently protects nothing.
 */
describe('a signing key taken from a secret reference is scrubbed from tool results', () => {
  const signing = generateSigningKey(new Date());
  let t: TestGateway;
  let key: string;
  before(async () => {
    t = await startTestGateway({
      config: 'keys:\n  tokenSigning: env:PC_TOKEN_SIGNING\n',
      env: { PC_TOKEN_SIGNING: JSON.stringify({ keys: [signing] }) },
    });
    key = (await t.key()).key;
  });
  after(() => t.close());

  const saveAndRead = async (content: string) => {
    const saved = await readRpc(await postMcp(t.url, legacyToolCall('memory_save', { content }), { key }));
    const id = (saved.result?.structuredContent as { id?: string } | undefined)?.id;
    assert.ok(id, JSON.stringify(saved));
    return JSON.stringify(await readRpc(await postMcp(t.url, legacyToolCall('memory_get', { id }), { key })));
  };

  it('the private part `d` stored in a note does not come back', async () => {
    const text = await saveAndRead(`backup of the key: ${signing.d!}`);
    assert.ok(!text.includes(signing.d!), 'the signing key came back to the model');
    assert.match(text, /backup of the key/);
  });

  it('an ordinary note beside it comes back whole', async () => {
    const text = await saveAndRead('the meeting moved to Thursday');
    assert.match(text, /the meeting moved to Thursday/);
  });
});
