import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Principal } from '../auth/index.js';
import { openMemoryStorage } from '../storage/index.js';
import { upstreamsConfigSchema } from '../upstreams/index.js';
import { connectionsConfigSchema } from './config.js';
import { createConnections } from './create-connections.js';
import type {
  UpstreamOAuthClient,
  UpstreamOAuthResult,
  UpstreamTokenSet,
} from './upstream-oauth-contract.js';
import { createVault } from './vault.js';

/**
 * STAND-IN OAuth client (the real one is connections/upstream-oauth/, merged separately): it
 * answers `refresh` from a script, so refresh timing and failure handling are tested here with
 * a frozen clock. The protocol itself is the real client's test.
 */
function scriptedClient(refreshes: UpstreamOAuthResult<UpstreamTokenSet>[]) {
  const calls: string[] = [];
  const client: UpstreamOAuthClient = {
    beginAuthorization: async (_s, redirectUri) => ({
      ok: true,
      value: {
        url: 'https://as.example/authorize?state=s1',
        pending: { state: 's1', codeVerifier: 'v', redirectUri, issuer: 'https://as.example' },
      },
    }),
    completeAuthorization: async () => ({
      ok: true,
      value: {
        accessToken: 'at-1',
        refreshToken: 'rt-1',
        expiresAt: 1_000_000 + 600_000,
        scopes: ['repo'],
        subject: 'octo',
      },
    }),
    refresh: async (_s, token) => {
      calls.push(token);
      return refreshes.shift() ?? { ok: false, reason: 'unavailable', detail: 'script ended' };
    },
    revoke: async () => ({ ok: true, value: true }),
    exchangeToken: async () => ({ ok: false, reason: 'refused', detail: 'no' }),
  };
  return { client, calls };
}

const upstreams = upstreamsConfigSchema.parse([
  {
    name: 'gh',
    http: { url: 'https://mcp.example.com/mcp' },
    auth: { mode: 'person-oauth', clientId: 'c', scopes: ['repo'] },
  },
  { name: 'crm', stdio: { command: 'node' }, auth: { mode: 'person-secret', env: 'K', label: 'your key' } },
]);
const principal = (subject: string, extra: Partial<Principal> = {}): Principal => ({
  subject,
  tenant: subject,
  credentialId: 'k1',
  authMethod: 'api-key',
  scopes: new Set(),
  binding: 'k1',
  ...extra,
});

function setup(refreshes: UpstreamOAuthResult<UpstreamTokenSet>[]) {
  let now = 1_000_000;
  const storage = openMemoryStorage();
  const learned = new Set<string>();
  const { client, calls } = scriptedClient(refreshes);
  const connections = createConnections({
    upstreams,
    store: storage.connections,
    vault: createVault('dk1', randomBytes(32)),
    config: connectionsConfigSchema.parse({ refreshBeforeSeconds: 120 }),
    oauth: client,
    publicUrl: new URL('https://gw.example'),
    env: {},
    onSecret: (v) => learned.add(v),
    logger: pino({ level: 'silent' }),
    now: () => new Date(now),
  });
  const alice = { tenant: 'alice', subject: 'alice' };
  const connect = async () => {
    const begun = await connections.beginOAuth(alice, 'gh');
    assert.ok(begun.ok);
    const done = await connections.completeOAuth(
      alice,
      new URL('https://gw.example/account/connections/callback?state=s1&code=x'),
      'r1',
    );
    assert.ok(done.ok);
  };
  return { connections, storage, learned, calls, connect, tick: (ms: number) => (now += ms) };
}

describe('connections at call time', () => {
  it('uses the access token while it is fresh, and refreshes server-side before expiry', async () => {
    const s = setup([
      {
        ok: true,
        value: {
          accessToken: 'at-2',
          refreshToken: 'rt-2',
          expiresAt: 1_000_000 + 1_200_000,
          scopes: ['repo'],
        },
      },
    ]);
    await s.connect();
    assert.deepEqual(await s.connections.resolve('gh', principal('alice')), {
      kind: 'person',
      connectionId: (await s.storage.connections.list({}))[0]!.id,
      upstreamSubject: 'octo',
      value: 'Bearer at-1',
    });
    assert.deepEqual(s.calls, []);
    s.tick(600_000 - 119_000); // inside the 120 s before expiry
    const after = await s.connections.resolve('gh', principal('alice'));
    assert.equal(after.kind === 'person' && after.value, 'Bearer at-2');
    assert.deepEqual(s.calls, ['rt-1']);
    s.tick(10_000);
    await s.connections.resolve('gh', principal('alice'));
    assert.deepEqual(s.calls, ['rt-1'], 'the rotated token is kept; no refresh while fresh');
    assert.ok(s.learned.has('at-2') && s.learned.has('rt-2'), 'the redactor learns every new token');
  });

  it('a refused refresh breaks the connection and tells the model how to reconnect', async () => {
    const s = setup([{ ok: false, reason: 'refused', detail: 'invalid_grant' }]);
    await s.connect();
    s.tick(590_000);
    const r = await s.connections.resolve('gh', principal('alice'));
    assert.equal(r.kind, 'none');
    assert.match(
      r.kind === 'none' ? r.message : '',
      /reconnect their gh account at https:\/\/gw\.example\/account\/connections/,
    );
    const [row] = await s.storage.connections.list({});
    assert.equal(row!.state, 'broken');
    assert.match(row!.brokenReason ?? '', /refused to renew/);
  });

  it('an unreachable AS keeps the connection and refuses only once the token has expired', async () => {
    const s = setup([]);
    await s.connect();
    s.tick(590_000);
    const r = await s.connections.resolve('gh', principal('alice'));
    assert.equal(r.kind, 'person', 'still valid for 10 s: used');
    s.tick(20_000);
    const late = await s.connections.resolve('gh', principal('alice'));
    assert.equal(late.kind, 'none');
    assert.equal(
      (await s.storage.connections.list({}))[0]!.state,
      'connected',
      'not broken: the AS was only down',
    );
  });

  it('a 401 on a pasted key breaks it; a 401 on an OAuth token forces a refresh', async () => {
    const s = setup([
      { ok: true, value: { accessToken: 'at-9', scopes: [], expiresAt: 1_000_000 + 3_600_000 } },
    ]);
    const alice = { tenant: 'alice', subject: 'alice' };
    const pasted = await s.connections.connectSecret(alice, 'crm', 'sk-alice-123', 'r');
    assert.ok(pasted.ok);
    await s.connections.refused('crm', pasted.connection.id, '401');
    assert.equal((await s.connections.resolve('crm', principal('alice'))).kind, 'none');
    await s.connect();
    const gh = (await s.storage.connections.find('alice', 'alice', 'gh'))!;
    await s.connections.refused('gh', gh.id, '401');
    const r = await s.connections.resolve('gh', principal('alice'));
    assert.equal(r.kind === 'person' && r.value, 'Bearer at-9');
    assert.deepEqual(s.calls, ['rt-1']);
  });

  it('a client acting for itself, or another person, never gets the connection', async () => {
    const s = setup([]);
    await s.connect();
    const machine = await s.connections.resolve('gh', principal('alice', { clientCredentials: true }));
    assert.equal(machine.kind === 'none' && machine.reason, 'no-person');
    assert.equal((await s.connections.resolve('gh', principal('bob'))).kind, 'none');
    assert.equal((await s.connections.resolve('gh', principal('alice', { tenant: 'other' }))).kind, 'none');
  });

  it('a pasted key is one line of bounded length', async () => {
    const s = setup([]);
    const alice = { tenant: 'alice', subject: 'alice' };
    for (const bad of ['', 'two words', 'line\nbreak', 'x'.repeat(4097)]) {
      const r = await s.connections.connectSecret(alice, 'crm', bad, 'r');
      assert.equal(r.ok, false, JSON.stringify(bad.slice(0, 20)));
    }
    assert.equal(
      (await s.connections.connectSecret(alice, 'gh', 'sk-1', 'r')).ok,
      false,
      'not a person-secret upstream',
    );
  });
});
