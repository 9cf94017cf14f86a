import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openMemoryStorage } from '../storage/index.js';
import { apiKeyMatches, generateApiKey, hashApiKey, parseApiKeyId } from './api-key.js';
import { authenticate } from './authenticate.js';

describe('API keys', () => {
  it('are 256-bit random with a recognisable prefix and a public id', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    assert.match(a.key, /^pcs_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a.key, b.key);
    assert.equal(parseApiKeyId(a.key), a.id);
    assert.equal(a.hash, hashApiKey(a.key));
    assert.ok(!a.hash.includes(a.key));
  });

  it('match only their own hash', () => {
    const a = generateApiKey();
    assert.equal(apiKeyMatches(a.key, a.hash), true);
    assert.equal(apiKeyMatches(`${a.key.slice(0, -1)}x`, a.hash), false);
    assert.equal(apiKeyMatches(a.key, 'abcd'), false);
  });

  it('parse nothing from look-alikes', () => {
    for (const s of [
      '',
      'pcs_',
      'pcs_short_x',
      `pcs_AAAAAAAAAAAAAAAA_${'a'.repeat(43)}`,
      `xpcs_aaaaaaaaaaaaaaaa_${'a'.repeat(43)}`,
    ]) {
      assert.equal(parseApiKeyId(s), undefined, s);
    }
  });
});

describe('authenticate', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const url = new URL('http://127.0.0.1/mcp');

  async function setup(over: { revokedAt?: Date; expiresAt?: Date } = {}) {
    const store = openMemoryStorage();
    const g = generateApiKey();
    await store.apiKeys.insert({
      id: g.id,
      hash: g.hash,
      owner: 'alice',
      tenant: 'acme',
      label: '',
      scopes: ['memory:read'],
      createdAt: now,
      expiresAt: over.expiresAt ?? null,
      lastUsedAt: null,
      revokedAt: over.revokedAt ?? null,
    });
    return { store, g };
  }

  it('builds the principal from the key record', async () => {
    const { store, g } = await setup();
    const r = await authenticate({ authorization: `Bearer ${g.key}`, url }, { apiKeys: store.apiKeys, now });
    assert.ok(r.ok);
    assert.equal(r.principal.subject, 'alice');
    assert.equal(r.principal.tenant, 'acme');
    assert.equal(r.principal.credentialId, g.id);
    assert.deepEqual([...r.principal.scopes], ['memory:read']);
    assert.deepEqual((await store.apiKeys.findById(g.id))?.lastUsedAt, now);
  });

  const cases: [string, (k: string) => string | undefined, string][] = [
    ['no header', () => undefined, 'credential-missing'],
    ['an empty header', () => '  ', 'credential-missing'],
    ['a non-Bearer scheme', (k) => `Token ${k}`, 'credential-malformed'],
    ['a Bearer with spaces inside', (k) => `Bearer ${k} extra`, 'credential-malformed'],
    ['a tampered secret', (k) => `Bearer ${k.slice(0, -2)}zz`, 'credential-unknown'],
  ];
  for (const [what, header, reason] of cases) {
    it(`refuses ${what} as ${reason}`, async () => {
      const { store, g } = await setup();
      const r = await authenticate({ authorization: header(g.key), url }, { apiKeys: store.apiKeys, now });
      assert.deepEqual(r.ok ? 'ok' : r.reason, reason);
    });
  }

  it('refuses revoked and expired keys, and keys in the query string', async () => {
    const revoked = await setup({ revokedAt: now });
    const r1 = await authenticate(
      { authorization: `Bearer ${revoked.g.key}`, url },
      { apiKeys: revoked.store.apiKeys, now },
    );
    assert.equal(r1.ok ? 'ok' : r1.reason, 'credential-revoked');
    const expired = await setup({ expiresAt: now });
    const r2 = await authenticate(
      { authorization: `Bearer ${expired.g.key}`, url },
      { apiKeys: expired.store.apiKeys, now },
    );
    assert.equal(r2.ok ? 'ok' : r2.reason, 'credential-expired');
    const r3 = await authenticate(
      { authorization: `Bearer ${expired.g.key}`, url: new URL('http://h/mcp?api_key=x') },
      { apiKeys: expired.store.apiKeys, now },
    );
    assert.equal(r3.ok ? 'ok' : r3.reason, 'credential-in-query');
  });
});
