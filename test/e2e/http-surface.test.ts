import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { postMcp, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { makeSelfSignedCert } from '../helpers/oauth-tls.js';

const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

describe('built-in TLS', () => {
  let t: TestGateway;
  let ca: Buffer;
  const dir = tempDir('portcullis-tls-');
  before(async () => {
    // A throwaway self-signed certificate for 127.0.0.1, made with the system's openssl.
    makeSelfSignedCert(dir, { commonName: '127.0.0.1', subjectAltName: 'IP:127.0.0.1' });
    ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    t = await startTestGateway({
      env: {
        PORTCULLIS_SERVER__TLS__CERT: path.join(dir, 'cert.pem'),
        PORTCULLIS_SERVER__TLS__KEY: path.join(dir, 'key.pem'),
      },
    });
  });
  after(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves /mcp over https with HSTS, to a client that trusts the certificate', async () => {
    assert.equal(new URL(t.url).protocol, 'https:');
    const { key } = await t.key();
    const dispatcher = new Agent({ connect: { ca } });
    const res = await undiciFetch(t.url, {
      method: 'POST',
      dispatcher,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        authorization: `Bearer ${key}`,
      },
      body: JSON.stringify(list),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    await res.text();
    await dispatcher.close();
  });

  it('refuses a client that does not trust the certificate', async () => {
    await assert.rejects(fetch(new URL('/healthz', t.url)));
  });
});

describe('health, readiness and security.txt', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ env: { PORTCULLIS_SECURITY_TXT__CONTACT: 'mailto:security@example.com' } });
  });
  after(() => t.close());

  it('answers /healthz and /readyz', async () => {
    assert.deepEqual(await (await fetch(new URL('/healthz', t.url))).json(), { status: 'ok' });
    const ready = await fetch(new URL('/readyz', t.url));
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { status: string; checks: Record<string, { state: string }> };
    assert.equal(body.status, 'ready');
    assert.deepEqual(
      Object.entries(body.checks).map(([name, c]) => [name, c.state]),
      [
        ['storage', 'up'],
        ['audit', 'up'],
      ],
      'no Redis is configured, so none is asked',
    );
  });

  it('serves an RFC 9116 security.txt with the configured contact and a future expiry', async () => {
    const res = await fetch(new URL('/.well-known/security.txt', t.url));
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^Contact: mailto:security@example\.com$/m);
    const expires = /^Expires: (.+)$/m.exec(text)?.[1];
    assert.ok(expires && Date.parse(expires) > Date.now());
  });

  it('has no security.txt when no contact is configured, and 404s unknown paths', async () => {
    const bare = await startTestGateway();
    try {
      assert.equal((await fetch(new URL('/.well-known/security.txt', bare.url))).status, 404);
      assert.equal((await fetch(new URL('/nope', bare.url))).status, 404);
    } finally {
      await bare.close();
    }
  });
});

describe('trustProxy', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({
      env: { PORTCULLIS_SERVER__TRUST_PROXY: 'true', PORTCULLIS_RATE_LIMITS__FAILED_AUTH__POINTS: '2' },
    });
  });
  after(() => t.close());

  it('limits failed authentication per forwarded client address, not per proxy', async () => {
    const bad = `pcs_cccccccccccccccc_${'D'.repeat(43)}`;
    const attempt = async (client: string) => {
      const res = await postMcp(t.url, list, {
        key: bad,
        headers: { 'x-forwarded-for': `203.0.113.9, ${client}` },
      });
      await res.text();
      return res.status;
    };
    assert.deepEqual(
      [await attempt('198.51.100.1'), await attempt('198.51.100.1'), await attempt('198.51.100.1')],
      [401, 401, 429],
    );
    assert.equal(await attempt('198.51.100.2'), 401, 'another client behind the same proxy is not blocked');
  });
});
