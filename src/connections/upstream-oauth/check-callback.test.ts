import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingAuthorization } from '../upstream-oauth-contract.js';
import { checkCallback } from './check-callback.js';

const ISSUER = 'https://as.example';
const pending: PendingAuthorization = {
  state: 'state-3f9a0c1b2d4e5f60718293a4b5c6d7e8',
  codeVerifier: 'verifier',
  redirectUri: 'https://gw.example/account/connections/callback',
  issuer: ISSUER,
};
const as = { issuer: ISSUER, issParameterSupported: true };
const params = (q: string) => new URLSearchParams(q);
const reason = (r: ReturnType<typeof checkCallback>) => (r.ok ? 'ok' : r.reason);

describe('checkCallback', () => {
  it('accepts the pending request’s state with its issuer and a code', () => {
    assert.deepEqual(checkCallback(pending, params(`code=c1&state=${pending.state}&iss=${ISSUER}`), as), {
      ok: true,
      code: 'c1',
    });
  });

  it('accepts a missing iss only from an AS that does not advertise RFC 9207', () => {
    const q = params(`code=c1&state=${pending.state}`);
    assert.equal(reason(checkCallback(pending, q, { ...as, issParameterSupported: false })), 'ok');
    assert.equal(reason(checkCallback(pending, q, as)), 'mismatch');
  });

  it('is a mismatch for a missing, different, prefixed or repeated state', () => {
    for (const q of [
      `code=c1&iss=${ISSUER}`,
      `code=c1&state=other&iss=${ISSUER}`,
      `code=c1&state=${pending.state}x&iss=${ISSUER}`,
      `code=c1&state=${pending.state.slice(0, -1)}&iss=${ISSUER}`,
      `code=c1&state=${pending.state}&state=${pending.state}&iss=${ISSUER}`,
    ]) {
      assert.equal(reason(checkCallback(pending, params(q), as)), 'mismatch', q);
    }
  });

  it('is a mismatch for another issuer in the callback or a changed discovered issuer', () => {
    const q = `code=c1&state=${pending.state}`;
    assert.equal(reason(checkCallback(pending, params(`${q}&iss=https://evil.example`), as)), 'mismatch');
    assert.equal(reason(checkCallback(pending, params(`${q}&iss=${ISSUER}/`), as)), 'mismatch');
    assert.equal(
      reason(
        checkCallback(pending, params(`${q}&iss=${ISSUER}`), { ...as, issuer: 'https://other.example' }),
      ),
      'mismatch',
    );
  });

  it('is refused for an error answer with the right state, and a mismatch for one without', () => {
    assert.equal(
      reason(checkCallback(pending, params(`error=access_denied&state=${pending.state}&iss=${ISSUER}`), as)),
      'refused',
    );
    assert.equal(reason(checkCallback(pending, params(`error=access_denied&iss=${ISSUER}`), as)), 'mismatch');
  });

  it('is a mismatch without a code, or with an empty or repeated one', () => {
    for (const code of ['', 'code=', 'code=a&code=b']) {
      const q = `${code}&state=${pending.state}&iss=${ISSUER}`;
      assert.equal(reason(checkCallback(pending, params(q), as)), 'mismatch', q);
    }
  });
});
