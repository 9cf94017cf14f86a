import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatewayUri, joinResourceUri, splitResourceUri } from './surface.js';

describe('gateway resource URIs', () => {
  it('round-trip an upstream URI through its namespace, whatever the URI holds', () => {
    for (const uri of [
      'file:///docs/a.txt',
      'demo://x/%2F..%2Fy',
      'a',
      'portcullis://other/x',
      'https://h/p?q=1#f',
    ]) {
      const gateway = joinResourceUri('files', uri);
      assert.ok(gateway.startsWith('portcullis://files/'));
      assert.deepEqual(splitResourceUri(gateway), { upstream: 'files', uri });
    }
  });

  it('an upstream URI that is itself a portcullis:// URI stays in its own upstream’s namespace', () => {
    const hostile = 'portcullis://bank/accounts/1';
    assert.deepEqual(splitResourceUri(joinResourceUri('evil', hostile)), { upstream: 'evil', uri: hostile });
    assert.deepEqual(splitResourceUri(joinResourceUri('evil', hostile, true), 'evil'), {
      upstream: 'evil',
      uri: hostile,
    });
    assert.deepEqual(splitResourceUri(joinResourceUri('evil', 'PORTCULLIS://bank/1', true), 'evil'), {
      upstream: 'evil',
      uri: 'PORTCULLIS://bank/1',
    });
  });

  it('refuses what names no upstream: a missing slash, an empty rest, uppercase, unicode or encoded names', () => {
    for (const uri of [
      'portcullis://files',
      'portcullis://files/',
      'portcullis:///x',
      'portcullis://FILES/x',
      'portcullis://fileś/x',
      'portcullis://fil%65s/x',
      'portcullis://fi les/x',
      'portcullis://a-very-long-upstream-name-over-32-chars/x',
      'file:///etc/passwd',
      '',
    ]) {
      assert.equal(splitResourceUri(uri), undefined, uri);
    }
  });

  it('the scheme is matched case-insensitively, the upstream name exactly', () => {
    assert.equal(isGatewayUri('PortCullis://files/x'), true);
    assert.deepEqual(splitResourceUri('PORTCULLIS://files/x'), { upstream: 'files', uri: 'x' });
  });

  it('with an unprefixed upstream, other URIs are its own, unchanged, and have exactly one gateway form', () => {
    assert.equal(joinResourceUri('conf', 'test://static', true), 'test://static');
    assert.deepEqual(splitResourceUri('test://static', 'conf'), { upstream: 'conf', uri: 'test://static' });
    // The prefixed spelling of an unprefixed upstream's plain URI is not a second way in.
    assert.equal(splitResourceUri('portcullis://conf/test://static', 'conf'), undefined);
    // Another upstream's gateway URI still belongs to that upstream, never to the unprefixed one.
    assert.deepEqual(splitResourceUri('portcullis://files/a', 'conf'), { upstream: 'files', uri: 'a' });
    assert.equal(splitResourceUri('', 'conf'), undefined);
  });
});
