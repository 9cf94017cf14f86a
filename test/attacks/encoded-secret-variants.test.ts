// Attack: get one of the gateway's own secrets (a signing key's private part, an upstream
// credential) out through a tool in an encoding the known-secret scrub does not list. The scrub
// matched base64 only as one unbroken run and URL-encoding only with upper-case escapes, so
// `base64 keys/signing-keys.json` (coreutils wraps at 76 columns) or an encoder writing `%2f`
// passed it through. Seen failing before the fix: no finding for either, the secret decodable
// from the output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor } from '../../src/safety/index.js';

const SECRET = 'Zq3/vX+8pL0/kW2+tN7/yB5+hJ4/mC9+dF6';
const redactor = createRedactor({ secrets: [SECRET], patterns: false });
const wrap76 = (s: string) => s.replace(/(.{76})/g, '$1\n');

describe('attack: a known secret in an encoding variant', () => {
  for (let pad = 0; pad < 76; pad += 7) {
    it(`base64 wrapped at 76 columns (secret ${pad} bytes into the file) is scrubbed`, () => {
      const file = `${'x'.repeat(pad)}{"keys":[{"kty":"EC","d":"${SECRET}"}]}\n`;
      const out = redactor.redact(wrap76(Buffer.from(file).toString('base64')));
      assert.ok(out.findings.length > 0, 'found');
      assert.doesNotMatch(
        Buffer.from(out.text.replace(/\n/g, ''), 'base64').toString('latin1'),
        /vX\+8pL0\/kW2/,
      );
    });
  }

  it('URL-encoded with lower-case escapes, or mixed, is scrubbed', () => {
    const upper = encodeURIComponent(SECRET);
    const lower = upper.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    for (const encoded of [lower, upper.replace(/%2F/g, '%2f')]) {
      const out = redactor.redact(`https://collector.example/?k=${encoded}`);
      assert.equal(out.findings.length, 1, encoded);
      assert.doesNotMatch(decodeURIComponent(out.text), /vX\+8pL0/);
    }
  });

  it('the legitimate text beside it is untouched: other base64, other URLs', () => {
    const other = wrap76(
      Buffer.from('{"keys":[{"kty":"EC","d":"another-value-entirely-0123456789"}]}'.repeat(3)).toString(
        'base64',
      ),
    );
    assert.equal(redactor.redact(other).findings.length, 0);
    assert.equal(redactor.redact('https://example.com/a%2fb?q=%2Fx').findings.length, 0);
  });
});
