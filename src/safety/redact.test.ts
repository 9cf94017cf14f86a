import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor, type RedactionRule } from './redact.js';

// Token-shaped test values are assembled at run time so the source never holds a string that a
// secret scanner would (rightly) flag.
const tok = (prefix: string, body: string, n: number): string => prefix + body.repeat(n);

function rulesIn(text: string, redactor = createRedactor()): RedactionRule[] {
  return redactor.redact(text).findings.map((f) => f.rule);
}

describe('createRedactor pattern rules', () => {
  const cases: [string, string, RedactionRule][] = [
    ['AWS access key id', `key id ${tok('AKIA', 'Q7ZX', 4)} here`, 'aws-access-key-id'],
    [
      'AWS secret key near a keyword',
      `aws_secret_access_key = ${tok('', 'wJalrXUtnF/K7MDENG+b', 2)}`,
      'aws-secret-key',
    ],
    ['GCP API key', `key=${tok('AIza', 'Sy9-xQ_4z', 3)}abcdefgh&x`, 'gcp-api-key'],
    ['GitHub classic token', `token ${tok('ghp_', 'a1B2c3', 6)}`, 'github-token'],
    ['GitHub fine-grained token', tok('github_pat_', '11AB_cd34', 4), 'github-token'],
    ['Slack bot token', tok('xoxb-', '1234-abcd-', 3), 'slack-token'],
    ['Stripe live key', tok('sk_live_', 'a1B2c3D4', 3), 'stripe-key'],
    ['Stripe restricted key', tok('rk_live_', 'Z9y8X7w6', 3), 'stripe-key'],
    ['Anthropic key', tok('sk-ant-api03-', 'Ab3_dE6-', 4), 'anthropic-key'],
    ['OpenAI project key', tok('sk-proj-', 'Xy12Zw34', 4), 'openai-key'],
    ['Portcullis API key', tok('pcs_', 'k3Yp', 6), 'portcullis-api-key'],
    ['bearer token', `Authorization: Bearer ${tok('', 'abc123.DEF_456-', 3)}`, 'bearer-token'],
  ];
  for (const [name, text, rule] of cases) {
    it(`redacts a ${name}`, () => {
      const r = createRedactor().redact(text);
      assert.deepEqual(
        r.findings.map((f) => f.rule),
        [rule],
      );
      assert.match(r.text, new RegExp(`\\[REDACTED:${rule}\\]`));
    });
  }

  it('redacts a whole PEM private key block and reports its offsets', () => {
    const pem = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'Proc-Type: 4,ENCRYPTED',
      'MIIEow' + 'IBAAKC'.repeat(10),
      '-----END RSA PRIVATE KEY-----',
    ].join('\n');
    const text = `before\n${pem}\nafter`;
    const r = createRedactor().redact(text);
    assert.equal(r.text, 'before\n[REDACTED:private-key]\nafter');
    assert.deepEqual(r.findings, [{ rule: 'private-key', start: 7, end: 7 + pem.length }]);
  });

  it('redacts a cut-off private key to the end of its body', () => {
    const r = createRedactor().redact('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    assert.equal(r.text, '[REDACTED:private-key]');
  });

  it('redacts a JWT whose header decodes to JSON with alg, and not a look-alike', () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'u1' })}.c2lnbmF0dXJl`;
    assert.deepEqual(rulesIn(`token: ${jwt}`).includes('jwt'), true);
    const fake = `${b64({ hello: 'world' })}.${b64({ sub: 'u1' })}.c2ln`;
    assert.deepEqual(rulesIn(`id ${fake}`), []);
  });

  it('replaces only the password of database and basic-auth URLs', () => {
    const r = createRedactor().redact(
      'db postgres://app:s3cr3t-P4ss@db.internal:5432/app and https://bob:hunter2hunter2@example.com/x and redis://:p4ssw0rd!@cache:6379',
    );
    assert.equal(
      r.text,
      'db postgres://app:[REDACTED:database-url]@db.internal:5432/app and https://bob:[REDACTED:url-credentials]@example.com/x and redis://:[REDACTED:database-url]@cache:6379',
    );
  });

  it('redacts high-entropy values of password, secret and token assignments', () => {
    assert.deepEqual(rulesIn('DB_PASSWORD=Zx8#kq2!Lm9vR'), ['generic-secret']);
    assert.deepEqual(rulesIn('{"client_secret": "9f8e7d6c5b4a3f2e1d0c"}'), ['generic-secret']);
    assert.deepEqual(rulesIn('secret: q8Fj2LkPz0Xw'), ['generic-secret']);
  });

  it('leaves documentation-style assignments alone', () => {
    for (const text of [
      'password: required',
      'token: string',
      'secret: ********',
      'password=changeme',
      'api_key = process.env.API_KEY',
      'const token = getToken();',
      'Set `password` to your own value.',
    ]) {
      assert.deepEqual(rulesIn(text), [], text);
    }
  });

  it('does not flag hyphenated words that start with sk-', () => {
    assert.deepEqual(rulesIn('the sk-learn-compatible-estimator-interface works'), []);
  });
});

describe('createRedactor known secrets', () => {
  const secret = 'upstream-Secret/42+x';
  const redactor = createRedactor({ secrets: [secret, 'short'] });

  for (const [form, value] of [
    ['verbatim', secret],
    ['base64', Buffer.from(secret).toString('base64')],
    ['base64url', Buffer.from(secret).toString('base64url')],
    ['hex', Buffer.from(secret).toString('hex')],
    ['upper-case hex', Buffer.from(secret).toString('hex').toUpperCase()],
    ['URL-encoded', encodeURIComponent(secret)],
  ]) {
    it(`scrubs a known secret in its ${form} form`, () => {
      const r = redactor.redact(`value=[${value}]`);
      assert.equal(r.text, 'value=[[REDACTED:known-secret]]');
    });
  }

  it('scrubs a known secret base64-encoded inside a longer value, at every alignment', () => {
    for (const prefix of ['', 'u:', 'user:', 'svc:']) {
      for (const suffix of ['', '\n', '!!']) {
        for (const alphabet of ['base64', 'base64url'] as const) {
          const encoded = Buffer.from(`${prefix}${secret}${suffix}`).toString(alphabet);
          const r = redactor.redact(`Authorization: Basic ${encoded}`);
          assert.deepEqual(
            r.findings.map((f) => f.rule),
            ['known-secret'],
            `${JSON.stringify(prefix)} + secret + ${JSON.stringify(suffix)} in ${alphabet}: ${r.text}`,
          );
          // At most two characters on each side mix the secret with its neighbours.
          assert.ok(r.text.length <= `Authorization: Basic ${encoded}`.length, r.text);
        }
      }
    }
    assert.deepEqual(redactor.redact(Buffer.from('an ordinary value').toString('base64')).findings, []);
  });

  it('scrubs a known secret used as an object key or written as a number, losing no entry', () => {
    const digits = createRedactor({ secrets: ['73914682055', secret] });
    const { value, findings } = digits.redactDeep({
      [secret]: 'a',
      [`${secret} `]: 'b',
      n: 73914682055,
      list: [73914682055, 7],
      plain: 42,
    });
    assert.deepEqual(value, {
      '[REDACTED:known-secret]': 'a',
      '[REDACTED:known-secret] ': 'b',
      n: '[REDACTED:known-secret]',
      list: ['[REDACTED:known-secret]', 7],
      plain: 42,
    });
    assert.deepEqual(
      findings.map((f) => f.path),
      ['$["[REDACTED:known-secret]"]{key}', '$["[REDACTED:known-secret] "]{key}', '$.n', '$.list[0]'],
    );
    const clash = digits.redactDeep({ [secret]: 1, [Buffer.from(secret).toString('hex')]: 2 });
    assert.deepEqual(clash.value, { '[REDACTED:known-secret]': 1, '[REDACTED:known-secret]#2': 2 });
  });

  it('skips secrets shorter than eight characters so common words survive', () => {
    assert.equal(redactor.redact('a short note').text, 'a short note');
  });

  it('redacts every string of a JSON value and reports paths', () => {
    const { value, findings } = redactor.redactDeep({ a: [{ b: `x ${secret}` }], 'odd key': secret, n: 1 });
    assert.deepEqual(value, {
      a: [{ b: 'x [REDACTED:known-secret]' }],
      'odd key': '[REDACTED:known-secret]',
      n: 1,
    });
    assert.deepEqual(
      findings.map((f) => f.path),
      ['$.a[0].b', '$["odd key"]'],
    );
  });
});

describe('createRedactor PII rules', () => {
  const pii = createRedactor({ pii: { email: true, phone: true, card: true, iban: true } });

  it('leaves PII alone unless asked', () => {
    assert.deepEqual(rulesIn('mail jane@example.com, card 4111 1111 1111 1111'), []);
  });

  it('redacts emails, E.164 phones, Luhn-valid cards and mod-97-valid IBANs', () => {
    const r = pii.redact(
      'jane.doe+x@mail.example.co.uk / +44 20 7946 0958 / 4111 1111 1111 1111 / GB82 WEST 1234 5698 7654 32',
    );
    assert.equal(r.text, '[REDACTED:email] / [REDACTED:phone] / [REDACTED:card-number] / [REDACTED:iban]');
  });

  it('ignores numbers that fail the Luhn or mod-97 check', () => {
    assert.deepEqual(rulesIn('order 4111 1111 1111 1112 / GB82 WEST 1234 5698 7654 33', pii), []);
  });
});

describe('createRedactor on adversarial input', () => {
  const redactor = createRedactor({
    secrets: ['a-known-secret-value'],
    pii: { email: true, phone: true, card: true, iban: true },
  });
  const bigInputs: [string, string][] = [
    ['repeated JWT prefixes', 'eyJ'.repeat(350_000)],
    ['a long base64url run', 'A'.repeat(1_000_000)],
    ['repeated keywords without values', 'password='.repeat(110_000)],
    ['repeated private-key headers', '-----BEGIN PRIVATE KEY-----'.repeat(37_000)],
    ['a long digit run', '4'.repeat(1_000_000)],
    ['repeated email local parts', 'a.'.repeat(500_000) + '@'],
    ['repeated URL schemes', 'postgres://u:'.repeat(80_000)],
  ];
  for (const [name, text] of bigInputs) {
    it(`finishes on a megabyte of ${name}`, () => {
      const r = redactor.redact(text);
      assert.equal(typeof r.text, 'string');
    });
  }

  it('keeps a hostile "__proto__" key as an own key and names paths only for findings', () => {
    const value = JSON.parse(
      '{"__proto__": {"polluted": "yes"}, "x": [{"odd key": "the value S3cretValue-42"}]}',
    ) as unknown;
    const { value: out, findings } = createRedactor({ secrets: ['S3cretValue-42'] }).redactDeep(value);
    const o = out as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.ok(Object.hasOwn(o, '__proto__'));
    assert.equal((o as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(
      findings.map((f) => f.path),
      ['$.x[0]["odd key"]'],
    );
  });
});
