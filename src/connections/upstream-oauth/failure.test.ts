import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseBodyError } from 'openid-client';
import { EgressError } from '../../egress/index.js';
import { toFailure } from './failure.js';

/** openid-client builds these from a response; the constructor wants the parsed body and the response. */
function oauthError(status: number, error: string): ResponseBodyError {
  const response = new Response(JSON.stringify({ error }), { status });
  return new ResponseBodyError('server responded with an error in the response body', {
    cause: { error },
    response,
  });
}

describe('toFailure', () => {
  it('refuses on an egress policy refusal, and is unavailable on a timeout or network failure', () => {
    const blocked = new EgressError('egress-blocked-address', 'Refused.', { detail: '10.0.0.7 is private' });
    assert.equal(toFailure(new Error('wrapped', { cause: blocked }), 'x').reason, 'refused');
    assert.match(toFailure(blocked, 'x').detail, /egress-blocked-address: 10\.0\.0\.7 is private/);
    assert.equal(toFailure(new EgressError('egress-timeout', 'Slow.'), 'x').reason, 'unavailable');
    assert.equal(toFailure(new EgressError('egress-network-error', 'Down.'), 'x').reason, 'unavailable');
  });

  it('refuses on invalid_grant and the other final OAuth errors; a server error is unavailable', () => {
    assert.equal(toFailure(oauthError(400, 'invalid_grant'), 'refresh').reason, 'refused');
    assert.equal(toFailure(oauthError(401, 'invalid_client'), 'refresh').reason, 'refused');
    assert.equal(toFailure(oauthError(400, 'temporarily_unavailable'), 'refresh').reason, 'unavailable');
    assert.equal(toFailure(oauthError(503, 'invalid_grant'), 'refresh').reason, 'unavailable');
  });

  it('is unavailable for anything else, with the message in the detail', () => {
    const failure = toFailure(new TypeError('unexpected response content-type'), 'discovery');
    assert.equal(failure.reason, 'unavailable');
    assert.match(failure.detail, /^discovery: unexpected response content-type/);
  });
});
