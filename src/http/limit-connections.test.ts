import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey, defaultMaxPerAddress, listenerOptions } from './limit-connections.js';

describe('connection limits', () => {
  it('counts an IPv4 address as itself, also when it arrives IPv4-mapped', () => {
    assert.equal(addressKey('127.0.0.1'), '127.0.0.1');
    assert.equal(addressKey('::ffff:127.0.0.1'), '127.0.0.1');
    assert.notEqual(addressKey('127.0.0.2'), addressKey('127.0.0.1'));
  });

  it('counts every address of one IPv6 /64 as one client', () => {
    assert.equal(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
  });

  it('turns the timeouts into Node listener options that check at least every second', () => {
    const limits = {
      maxTotal: 10,
      maxPerAddress: 2,
      headersTimeoutSeconds: 10,
      requestTimeoutSeconds: 30,
      keepAliveTimeoutSeconds: 5,
    };
    assert.deepEqual(listenerOptions(limits, false), {
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1000,
    });
    assert.equal(listenerOptions(limits, true).handshakeTimeout, 10_000);
  });

  it('caps per address by default, except behind a trusted proxy', () => {
    assert.equal(defaultMaxPerAddress(false), 64);
    assert.equal(defaultMaxPerAddress(true), 0);
  });
});
