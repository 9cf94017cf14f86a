import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chooseIssuer,
  metadataCovers,
  parseResourceMetadata,
  resourceMetadataUrls,
} from './resource-metadata.js';

const reason = (r: { ok: boolean; reason?: string }) => (r.ok ? 'ok' : r.reason);

describe('resourceMetadataUrls', () => {
  it('puts the well-known suffix between host and path (RFC 9728 §3.1), then tries the root', () => {
    assert.deepEqual(resourceMetadataUrls('https://api.example/v1/mcp').map(String), [
      'https://api.example/.well-known/oauth-protected-resource/v1/mcp',
      'https://api.example/.well-known/oauth-protected-resource',
    ]);
    assert.deepEqual(resourceMetadataUrls('https://api.example/mcp/').map(String), [
      'https://api.example/.well-known/oauth-protected-resource/mcp',
      'https://api.example/.well-known/oauth-protected-resource',
    ]);
    assert.deepEqual(resourceMetadataUrls('https://api.example').map(String), [
      'https://api.example/.well-known/oauth-protected-resource',
    ]);
  });

  it('drops the query of the resource', () => {
    assert.deepEqual(
      resourceMetadataUrls('https://api.example:8443/mcp?tenant=a').map(String)[0],
      ['https://api.example:8443/.well-known/oauth-protected-resource/mcp'][0],
    );
  });
});

describe('metadataCovers', () => {
  it('needs the exact resource from the path-aware document', () => {
    assert.equal(metadataCovers('https://api.example/mcp', 'https://api.example/mcp', true), true);
    assert.equal(metadataCovers('HTTPS://API.example:443/mcp', 'https://api.example/mcp', true), true);
    assert.equal(metadataCovers('https://api.example/', 'https://api.example/mcp', true), false);
  });

  it('lets the root document name the origin or a whole-segment prefix, on the same origin only', () => {
    assert.equal(metadataCovers('https://api.example', 'https://api.example/mcp', false), true);
    assert.equal(metadataCovers('https://api.example/v1', 'https://api.example/v1/mcp', false), true);
    assert.equal(metadataCovers('https://api.example/v', 'https://api.example/v1/mcp', false), false);
    assert.equal(metadataCovers('https://other.example', 'https://api.example/mcp', false), false);
    assert.equal(metadataCovers('http://api.example', 'https://api.example/mcp', false), false);
    assert.equal(metadataCovers('not a url', 'https://api.example/mcp', false), false);
  });
});

describe('parseResourceMetadata', () => {
  const resource = 'https://api.example/mcp';
  it('reads the authorization servers of a document for this resource', () => {
    assert.deepEqual(
      parseResourceMetadata({ resource, authorization_servers: ['https://as.example'] }, resource),
      { ok: true, value: { resource, authorizationServers: ['https://as.example'] } },
    );
  });

  it('refuses a document for another resource or without one', () => {
    assert.equal(
      reason(parseResourceMetadata({ resource: 'https://api.example/other' }, resource)),
      'refused',
    );
    assert.equal(reason(parseResourceMetadata({ authorization_servers: [] }, resource)), 'refused');
  });

  it('refuses issuers with userinfo, a fragment or another scheme; nonsense is unavailable', () => {
    for (const issuer of [
      'https://u:p@as.example',
      'https://as.example#x',
      'file:///etc/passwd',
      'javascript:alert(1)',
    ]) {
      assert.equal(
        reason(parseResourceMetadata({ resource, authorization_servers: [issuer] }, resource)),
        'refused',
        issuer,
      );
    }
    for (const body of [
      null,
      [],
      'x',
      { resource, authorization_servers: 'https://as.example' },
      { resource, authorization_servers: [1] },
      { resource, authorization_servers: ['::'] },
    ]) {
      assert.equal(reason(parseResourceMetadata(body, resource)), 'unavailable', JSON.stringify(body));
    }
  });
});

describe('chooseIssuer', () => {
  const metadata = {
    resource: 'https://api.example/mcp',
    authorizationServers: ['https://as.example', 'https://b.example'],
  };
  it('keeps a configured issuer the metadata lists (normalised), or that no metadata contradicts', () => {
    assert.deepEqual(chooseIssuer('https://b.example/', metadata), { ok: true, value: 'https://b.example/' });
    assert.deepEqual(chooseIssuer('https://as.example', undefined), {
      ok: true,
      value: 'https://as.example',
    });
  });

  it('refuses a configured issuer the metadata does not list', () => {
    assert.equal(reason(chooseIssuer('https://as.example/tenant', metadata)), 'refused');
    assert.equal(
      reason(chooseIssuer('https://as.example', { ...metadata, authorizationServers: [] })),
      'refused',
    );
  });

  it('takes the first listed issuer when none is configured; none at all is unavailable', () => {
    assert.deepEqual(chooseIssuer(undefined, metadata), { ok: true, value: 'https://as.example' });
    assert.equal(reason(chooseIssuer(undefined, undefined)), 'unavailable');
    assert.equal(reason(chooseIssuer(undefined, { ...metadata, authorizationServers: [] })), 'unavailable');
  });
});
