import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authenticate, type RoleCeilings } from './authenticate.js';
import type { AccessTokenAuthenticator } from './authenticate-access-token.js';
import type { Principal } from './principal.js';

const ALL = ['memory:read', 'memory:write', 'files:destructive'];
/** A reader-only ceiling for every known person; unknown names keep their scopes. */
const people: RoleCeilings = {
  cap: async (name, scopes) =>
    name === 'nobody-here' ? undefined : new Set([...scopes].filter((s) => s === 'memory:read')),
};
const tokenOf = (principal: Principal): AccessTokenAuthenticator => ({
  authenticate: async () => ({ ok: true, principal }),
});
const run = (principal: Principal) =>
  authenticate(
    { authorization: 'Bearer eyJ.a.b', url: new URL('http://gw.test/mcp') },
    {
      apiKeys: undefined as never,
      accessTokens: tokenOf(principal),
      people,
      now: new Date(),
    },
  );

describe('role ceilings at the resource server', () => {
  it('caps a person whose account name happens to equal the client id of their app', async () => {
    // A federated person picks their username at the identity provider; naming themselves after
    // a client they registered must not take their tokens out of their role.
    const r = await run({
      subject: 'Xk3pq9ClientId',
      tenant: 'Xk3pq9ClientId',
      credentialId: 'jti-1',
      authMethod: 'oauth',
      scopes: new Set(ALL),
      clientId: 'Xk3pq9ClientId',
      binding: 'oauth:["Xk3pq9ClientId","Xk3pq9ClientId"]',
    });
    assert.ok(r.ok);
    assert.deepEqual([...r.principal.scopes], ['memory:read']);
  });

  it('leaves a client-credentials token to the operator limit of its client', async () => {
    const r = await run({
      subject: 'pcc_job',
      tenant: 'pcc_job',
      credentialId: 'jti-2',
      authMethod: 'oauth',
      scopes: new Set(['memory:write']),
      clientId: 'pcc_job',
      binding: 'oauth:["pcc_job","pcc_job"]',
      clientCredentials: true,
    });
    assert.ok(r.ok);
    assert.deepEqual([...r.principal.scopes], ['memory:write']);
  });
});
