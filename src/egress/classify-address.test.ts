import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyAddress, compileAddressAllowList } from './classify-address.js';

describe('classifyAddress', () => {
  const blocked: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'cloud-metadata'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.7', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.7', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['fd00:ec2::254', 'cloud-metadata'],
    ['2001:db8::1', 'reserved'],
    ['2001:2::1', 'reserved'],
    ['100::1', 'reserved'],
    ['4000::1', 'not-global-unicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'cloud-metadata'],
    ['::ffff:0:10.0.0.1', 'private'],
    ['::7f00:1', 'loopback'],
    ['::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a9fe:a9fe::1', 'cloud-metadata'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b:1:7f00:0:100::', 'loopback'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
    ['2001:0:a00:1:8000:63bf:f7f7:f7f7', 'private'],
    ['not-an-address', 'invalid'],
  ];
  for (const [address, range] of blocked) {
    it(`refuses ${address} as ${range}`, () => {
      assert.equal(classifyAddress(address), range);
    });
  }

  for (const address of [
    '8.8.8.8',
    '93.184.215.14',
    '2606:4700:4700::1111',
    '2002:808:808::1',
    '::ffff:8.8.8.8',
  ]) {
    it(`accepts the public address ${address}`, () => {
      assert.equal(classifyAddress(address), undefined);
    });
  }
});

describe('compileAddressAllowList', () => {
  it('matches addresses inside the listed CIDRs, bare addresses and mapped IPv6 forms', () => {
    const allow = compileAddressAllowList(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
    assert.equal(allow.includes('10.9.8.7'), true);
    assert.equal(allow.includes('127.0.0.1'), true);
    assert.equal(allow.includes('::ffff:127.0.0.1'), true);
    assert.equal(allow.includes('127.0.0.2'), false);
    assert.equal(allow.includes('fd00::5'), true);
    assert.equal(allow.includes('fe80::1'), false);
    assert.equal(allow.includes('garbage'), false);
  });

  it('rejects a malformed entry', () => {
    assert.throws(() => compileAddressAllowList(['10.0.0.0/33']));
    assert.throws(() => compileAddressAllowList(['intranet']));
  });
});
