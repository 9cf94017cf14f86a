import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkUrl, type UrlPolicy } from './check-url.js';
import { compileAddressAllowList } from './classify-address.js';
import { EgressError, type EgressErrorCode } from './errors.js';
import { compileHostPatterns } from './match-host.js';

function policy(
  allowHosts: string[],
  allowHttpHosts: string[] = [],
  allowAddresses: string[] = [],
): UrlPolicy {
  return {
    allowHosts: compileHostPatterns(allowHosts),
    allowHttpHosts: compileHostPatterns(allowHttpHosts),
    allowAddresses: compileAddressAllowList(allowAddresses),
  };
}

function refusal(url: string, p: UrlPolicy): EgressErrorCode {
  try {
    checkUrl(url, p);
  } catch (err) {
    assert.ok(err instanceof EgressError);
    return err.code;
  }
  assert.fail(`${url} was accepted`);
}

describe('checkUrl', () => {
  const open = policy(['*']);

  const internal = [
    'https://127.0.0.1/',
    'https://2130706433/',
    'https://017700000001/',
    'https://0x7f.1/',
    'https://0x7f000001/',
    'https://127.1/',
    'https://0/',
    'https://0.0.0.0/',
    'https://[::1]/',
    'https://[::]/',
    'https://[0:0:0:0:0:0:0:1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://[::127.0.0.1]/',
    'https://[2002:7f00:1::]/',
    'https://[64:ff9b::7f00:1]/',
    'https://[64:ff9b::169.254.169.254]/',
    'https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fd00:ec2::254]/',
    'https://[::ffff:169.254.169.254]/',
    'https://100.64.0.1/',
    'https://10.0.0.1/',
    'https://172.16.5.4/',
    'https://192.168.1.1:8443/',
    'https://[fc00::1]/',
    'https://[fe80::1]/',
    'https://224.0.0.1/',
    'https://255.255.255.255/',
    'https://192.0.2.1/',
    'https://198.18.0.1/',
    'https://[2001:db8::1]/',
    'https://127.0.0.1./',
  ];
  for (const url of internal) {
    it(`refuses the internal address in ${url}`, () => {
      assert.equal(refusal(url, open), 'egress-blocked-address');
    });
  }

  for (const url of [
    'https://allowed@127.0.0.1/',
    'https://user:pass@example.com/',
    'https://example.com@10.0.0.1/',
  ]) {
    it(`refuses the userinfo in ${url}`, () => {
      assert.equal(refusal(url, open), 'egress-userinfo');
    });
  }

  for (const url of [
    'file:///etc/passwd',
    'gopher://127.0.0.1:70/_GET',
    'ftp://example.com/',
    'data:text/plain,hi',
    'javascript:alert(1)',
    'ws://example.com/',
    'http://example.com/',
  ]) {
    it(`refuses the scheme of ${url}`, () => {
      assert.equal(refusal(url, open), 'egress-scheme-not-allowed');
    });
  }

  it('refuses garbage that is not a URL', () => {
    assert.equal(refusal('not a url', open), 'egress-invalid-url');
  });

  it('accepts https to a public host and a public IP literal under a wildcard allow-list', () => {
    assert.equal(checkUrl('https://example.com/a?b=1', open).href, 'https://example.com/a?b=1');
    assert.equal(checkUrl('https://8.8.8.8/', open).hostname, '8.8.8.8');
  });

  it('matches exact names and subdomain wildcards but not the bare parent of a wildcard', () => {
    const p = policy(['api.example.com', '*.trusted.test']);
    assert.ok(checkUrl('https://API.Example.com./x', p));
    assert.ok(checkUrl('https://a.b.trusted.test/', p));
    assert.equal(refusal('https://trusted.test/', p), 'egress-host-not-allowed');
    assert.equal(refusal('https://evil.test/', p), 'egress-host-not-allowed');
    assert.equal(refusal('https://api.example.com.evil.test/', p), 'egress-host-not-allowed');
    assert.equal(refusal('https://eviltrusted.test/', p), 'egress-host-not-allowed');
  });

  it('allows nothing with an empty allow-list', () => {
    assert.equal(refusal('https://example.com/', policy([])), 'egress-host-not-allowed');
  });

  it('allows plain http only to the hosts listed for it', () => {
    const p = policy(['*'], ['plain.test']);
    assert.ok(checkUrl('http://plain.test/', p));
    assert.equal(refusal('http://other.test/', p), 'egress-scheme-not-allowed');
  });

  it('reaches an internal address only when the operator allowed its CIDR', () => {
    const p = policy(['*'], ['127.0.0.1'], ['127.0.0.0/30']);
    assert.ok(checkUrl('http://127.0.0.1:8080/', p));
    assert.ok(checkUrl('https://2130706433/', p));
    assert.equal(refusal('https://127.0.0.9/', p), 'egress-blocked-address');
  });

  it('names only the host the caller gave in the public message', () => {
    try {
      checkUrl('https://2130706433/', open);
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof EgressError);
      assert.match(err.publicMessage, /internal or reserved network address/);
      assert.equal(err.detail, '127.0.0.1 is loopback');
    }
  });
});
