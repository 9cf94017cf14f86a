import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  checkInsecureSettings,
  configSchema,
  isSecurityContactUri,
  loadConfig,
  renderConfigDocs,
  renderDefaultConfigYaml,
} from './index.js';

function withFile(contents: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-config-'));
  const file = path.join(dir, 'portcullis.yaml');
  fs.writeFileSync(file, contents);
  return file;
}

describe('configuration', () => {
  it('docs/configuration.md matches the schema (run `npm run docs:config` when this fails)', () => {
    const committed = fs.readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    assert.equal(committed, renderConfigDocs());
  });

  it('an absent file yields every default', () => {
    const config = loadConfig({ file: '/nonexistent/portcullis.yaml', env: {} });
    assert.deepEqual(config, configSchema.parse({}));
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.server.port, 8080);
  });

  it('the commented default file written by init parses to the defaults', () => {
    const file = withFile(renderDefaultConfigYaml());
    assert.deepEqual(loadConfig({ file, env: {} }), configSchema.parse({}));
  });

  it('errors name the failing path', () => {
    const file = withFile('server:\n  port: 99999\n  hots: x\nstorage:\n  driver: mongo\n');
    assert.throws(
      () => loadConfig({ file, env: {} }),
      (err: Error) =>
        /server\.port/.test(err.message) && /storage\.driver/.test(err.message) && /hots/.test(err.message),
    );
  });

  it('invalid YAML is reported, not half-read', () => {
    const file = withFile('server:\n  port: [1,\n');
    assert.throws(() => loadConfig({ file, env: {} }), /not valid YAML/);
  });

  it('duplicate keys are refused', () => {
    const file = withFile('server:\n  port: 1\n  port: 2\n');
    assert.throws(() => loadConfig({ file, env: {} }), /not valid YAML/);
  });

  it('environment variables override the file, with types parsed', () => {
    const file = withFile('server:\n  port: 9000\n');
    const config = loadConfig({
      file,
      env: {
        PORTCULLIS_SERVER__PORT: '9100',
        PORTCULLIS_SERVER__TRUST_PROXY: 'true',
        PORTCULLIS_SERVER__ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      },
    });
    assert.equal(config.server.port, 9100);
    assert.equal(config.server.trustProxy, true);
    assert.deepEqual(config.server.allowedOrigins, ['https://a.example', 'https://b.example']);
  });

  it('overriding one field of a nested section keeps the defaults of its siblings', () => {
    const config = loadConfig({
      file: '/nonexistent',
      env: { PORTCULLIS_RATE_LIMITS__CREDENTIAL__POINTS: '5' },
    });
    assert.deepEqual(config.rateLimits.credential, {
      points: 5,
      windowSeconds: 60,
      burst: 0,
      burstWindowSeconds: 600,
    });
    const file = withFile('rateLimits:\n  concurrency:\n    maxInFlight: 2\n');
    assert.equal(loadConfig({ file, env: {} }).rateLimits.concurrency.maxInFlight, 2);
  });

  it('a bad environment value names the variable’s path', () => {
    assert.throws(
      () => loadConfig({ file: '/nonexistent', env: { PORTCULLIS_SERVER__PORT: 'eighty' } }),
      /environment: server\.port/,
    );
  });

  it('an unknown PORTCULLIS_ variable with a path is refused rather than silently ignored', () => {
    assert.throws(
      () => loadConfig({ file: '/nonexistent', env: { PORTCULLIS_SERVER__PROT: '1' } }),
      /PORTCULLIS_SERVER__PROT/,
    );
  });

  it('plain HTTP on a non-loopback address is fatal unless explicitly allowed, and loud when allowed', () => {
    const base = configSchema.parse({ server: { host: '0.0.0.0' } });
    assert.equal(checkInsecureSettings(base)[0]?.severity, 'fatal');
    const allowed = configSchema.parse({ server: { host: '0.0.0.0', allowInsecureHttp: true } });
    assert.equal(checkInsecureSettings(allowed)[0]?.severity, 'warning');
    const proxied = configSchema.parse({ server: { host: '10.0.0.5', trustProxy: true } });
    assert.ok(checkInsecureSettings(proxied).every((p) => p.severity === 'warning'));
    const contact = { securityTxt: { contact: ['mailto:security@example.com'] } };
    assert.deepEqual(checkInsecureSettings(configSchema.parse(contact)), []);
  });

  it('a missing security contact is a warning, not silence', () => {
    const problems = checkInsecureSettings(configSchema.parse({}));
    assert.deepEqual(
      problems.map((p) => p.severity),
      ['warning'],
    );
    assert.match(problems[0]!.message, /no security contact.*security\.txt/);
  });

  it('security contacts must be mailto: addresses or https: URLs, without room for injected lines', () => {
    for (const ok of ['mailto:security@example.com', 'https://example.com/security', 'https://example.com']) {
      assert.equal(isSecurityContactUri(ok), true, ok);
    }
    for (const bad of [
      'http://example.com/security',
      'security@example.com',
      'mailto:',
      'mailto:nobody',
      'https://',
      'https://user:pw@example.com/',
      'javascript:alert(1)',
      'tel:+1-201-555-0123',
      'mailto:a@example.com\nCanonical: https://evil.example/',
      'https://example.com/ x',
    ]) {
      assert.equal(isSecurityContactUri(bad), false, bad);
    }
    assert.throws(
      () => configSchema.parse({ securityTxt: { contact: ['http://example.com/'] } }),
      /mailto: address or an https: URL/,
    );
  });
});
