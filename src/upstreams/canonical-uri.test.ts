import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalResourceUri } from './canonical-uri.js';
import { classifySurface } from './classify-surface.js';

describe('the canonical form of a resource URI', () => {
  it('every spelling a file server resolves to one path has one canonical form', () => {
    const hr = 'file:///srv/docs/hr/salaries.txt';
    for (const u of [
      hr,
      'file:///srv/docs/public/../hr/salaries.txt',
      'file:///srv/docs/public/%2E%2e/hr/salaries.txt',
      'file:///srv/docs/%68r/salaries.txt',
      'file:///srv/docs/%2568r/salaries.txt',
      'FILE:///srv/docs/hr/salaries.txt',
      'file://localhost/srv/docs/hr/salaries.txt',
      'file:/srv/docs/hr/salaries.txt',
      'file:///srv/docs/public\\..\\hr\\salaries.txt',
      'file:///srv/docs//hr/./salaries.txt',
    ])
      assert.equal(canonicalResourceUri(u), hr, u);
  });

  it('other schemes keep their authority and query, with dot segments resolved', () => {
    assert.equal(canonicalResourceUri('HTTPS://Example.COM:443/a/../b?x=%41'), 'https://example.com/b?x=A');
    assert.equal(canonicalResourceUri('demo://resource/static/../document/1'), 'demo://resource/document/1');
    assert.equal(canonicalResourceUri('urn:isbn:0451450523'), 'urn:isbn:0451450523');
    assert.equal(canonicalResourceUri('not a uri'), 'not a uri');
    assert.equal(canonicalResourceUri('file:///%7Bpath%7D'), 'file:///{path}');
  });

  it('rules and URIs are matched in canonical form, so a respelt URI keeps its rule', () => {
    const rules = {
      'file:///srv/docs/public/*': { scope: 'files:public' },
      'FILE:///srv/docs/hr/*': { scope: 'files:hr' },
    };
    const scope = (u: string) => classifySurface('files', 'resources', u, rules).scope;
    assert.equal(scope('file:///srv/docs/hr/salaries.txt'), 'files:hr');
    assert.equal(scope('file:///srv/docs/public/../hr/salaries.txt'), 'files:hr');
    assert.equal(scope('file:///srv/docs/public/readme.txt'), 'files:public');
    assert.equal(scope('file:///srv/other'), 'files:resources');
  });
});
