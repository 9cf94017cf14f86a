import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateSigningKey } from '../../src/oauth/index.js';
import { legacyToolCall } from '../helpers/audit-records.js';
import { runCli } from '../helpers/cli.js';
import { postMcp, readRpc, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const edPem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/**
 * Issue 16, keys shared safely: every gateway key can come from a secret reference, so replicas
 * that share a secret store share keys without sharing a directory. The gateway signs tokens,
 * signs its audit log, keys argument HMACs and signs confirmations with the referenced keys, and
 * creates no key files in their place; the CLI reads the same references.
 */
describe('gateway keys from secret references (keys.tokenSigning, keys.audit*, keys.confirmation)', () => {
  const signing = generateSigningKey(new Date());
  const env = {
    PC_TOKEN_SIGNING: JSON.stringify({ keys: [signing] }),
    PC_AUDIT_SIGNING: edPem(),
    PC_AUDIT_HMAC: randomBytes(32).toString('base64'),
    PC_CONFIRMATION: randomBytes(32).toString('base64url'),
  };
  const config =
    'keys:\n  tokenSigning: env:PC_TOKEN_SIGNING\n  auditSigning: env:PC_AUDIT_SIGNING\n' +
    '  auditArgsHmac: env:PC_AUDIT_HMAC\n  confirmation: env:PC_CONFIRMATION\n';
  let t: TestGateway;

  before(async () => {
    t = await startTestGateway({ config, env });
  });
  after(() => t.close());

  it('publishes and signs with the referenced token-signing key, not the key file in keys.dir', async () => {
    const jwks = (await (await fetch(new URL('/oauth/jwks', t.url))).json()) as { keys: { kid: string }[] };
    assert.deepEqual(
      jwks.keys.map((k) => k.kid),
      [signing.kid],
    );
    const onDisk = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'keys', 'signing-keys.json'), 'utf8')) as {
      keys: { kid: string }[];
    };
    assert.ok(!jwks.keys.some((k) => k.kid === onDisk.keys[0]!.kid), 'the file in keys.dir is not used');
  });

  it('creates no audit or confirmation key files in keys.dir', () => {
    const files = fs.readdirSync(path.join(t.dataDir, 'keys'));
    for (const name of ['audit-ed25519.pem', 'audit-args-hmac.key', 'confirmation-key'])
      assert.ok(!files.includes(name), `${name} was created: ${files.join(', ')}`);
  });

  it('`audit verify` with the same references passes; with another audit key it fails', async () => {
    const { key } = await t.key();
    const res = await postMcp(t.url, legacyToolCall('memory_save', { content: 'keys from references' }), {
      key,
    });
    assert.equal(res.status, 200);
    assert.ok((await readRpc(res)).result);
    const ok = await runCli(['audit', 'verify', '--data-dir', t.dataDir], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /audit log intact/);
    const other = await runCli(['audit', 'verify', '--data-dir', t.dataDir], {
      env: { ...env, PC_AUDIT_SIGNING: edPem() },
    });
    assert.notEqual(other.code, 0, other.stdout);
  });

  it('`keys rotate-signing` refuses to rotate the unused file and says how to rotate the referenced set', async () => {
    const res = await runCli(['keys', 'rotate-signing', '--data-dir', t.dataDir], { env });
    assert.equal(res.code, 2, res.stdout);
    assert.match(res.stderr, /keys\.tokenSigning \(env:PC_TOKEN_SIGNING\).*--file PATH/s);
  });
});

describe('a key reference that cannot be resolved or holds the wrong thing stops the start, naming the reference', () => {
  const cases: [string, string, Record<string, string>, RegExp][] = [
    ['unset', 'tokenSigning: env:PC_MISSING', {}, /env:PC_MISSING is not set/],
    [
      'not a JWK set',
      'tokenSigning: env:PC_BAD',
      { PC_BAD: 'hello' },
      /env:PC_BAD is not a valid ES256 JWK set/,
    ],
    ['not a PEM', 'auditSigning: env:PC_BAD', { PC_BAD: 'hello' }, /audit signing key is not a PKCS#8 PEM/],
    ['short HMAC key', 'auditArgsHmac: env:PC_BAD', { PC_BAD: 'c2hvcnQ=' }, /must be 32 bytes/],
    [
      'short confirmation key',
      'confirmation: env:PC_BAD',
      { PC_BAD: 'c2hvcnQ' },
      /keys\.confirmation must hold/,
    ],
  ];
  for (const [name, line, env, expected] of cases) {
    it(name, async () => {
      await assert.rejects(startTestGateway({ config: `keys:\n  ${line}\n`, env }), (err: Error) => {
        assert.match(
          `${err.message} ${JSON.stringify((err as { detail?: unknown }).detail ?? '')}`,
          expected,
        );
        assert.ok(!err.message.includes('hello'), 'the value is never named');
        return true;
      });
    });
  }
});
