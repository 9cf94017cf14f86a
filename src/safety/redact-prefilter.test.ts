import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createRedactor, type RedactorOptions } from './redact.js';

// The redactor's prefilter may only skip work: with it and without it, every text gives the same
// output and the same findings, for every option set.

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const corpus = path.join(repoRoot, 'test', 'corpora', 'injection');
const prose = readdirSync(corpus)
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(path.join(corpus, f), 'utf8').split('\n'))
  .filter((l) => l.trim() !== '')
  .map((l) => String((JSON.parse(l) as { text: unknown }).text));

const jwtHeader = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
const SAMPLES = [
  'AKIAIOSFODNN7EXAMPLE',
  'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
  'AIzaSyA1234567890abcdefghijklmnopqrstu',
  `ghp_${'a1'.repeat(18)}`,
  `github_pat_${'B2'.repeat(15)}`,
  'xoxb-123456789012-abcdefghij',
  `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`,
  `sk-ant-api03-${'x9'.repeat(15)}`,
  `sk-proj-${'a1B2'.repeat(8)}`,
  'pcs_ol9fxtzxm9htniop_oWn5V1vR2aZVIvMiOQOHUjNZU8UEKUB9QylZCeT5NhQ',
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
  `${jwtHeader}.eyJzdWIiOiIxIn0.c2ln`.replace(/^/, ''),
  `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl`,
  'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345',
  'postgres://app:s3cr3tP4ss@db.internal:5432/app',
  'https://user:hunter2hunter2@example.com/x',
  'password=Xk9#mQ2$vL7!pR4z',
  'client_secret: "Zx8Qw3Er5Ty7Ui9Op1As"',
  'mail alice@example.com or +44 20 7946 0958',
  'card 4111 1111 1111 1111, iban GB82 WEST 1234 5698 7654 32',
  'the value 123456789012 and SeCrEt_KeY=Ab12Cd34Ef56Gh78',
  'my known value S3cretValue-42 in base64 UzNjcmV0VmFsdWUtNDI= and hex 53336372657456616c75652d3432',
];
const TEXTS = [
  ...SAMPLES,
  ...SAMPLES.map((s) => s.toLowerCase()),
  ...SAMPLES.map((s) => s.toUpperCase()),
  ...SAMPLES.map((s, i) => `${prose[i % prose.length]} ${s} ${prose[(i + 7) % prose.length]}`),
  ...prose,
  'title',
  '',
  '12345678',
];
const OPTIONS: RedactorOptions[] = [
  {},
  { secrets: ['S3cretValue-42', '12345678'] },
  { pii: { email: true, phone: true, card: true, iban: true } },
  { secrets: ['S3cretValue-42'], patterns: false },
];

describe('the redactor prefilter', () => {
  for (const options of OPTIONS) {
    it(`changes no result with options ${JSON.stringify(options)}`, () => {
      const fast = createRedactor(options);
      const full = createRedactor(options, { prefilter: false });
      let redacted = 0;
      for (const text of TEXTS) {
        const a = fast.redact(text);
        assert.deepEqual(a, full.redact(text), text);
        if (a.findings.length > 0) redacted++;
      }
      assert.ok(redacted >= 3, `only ${redacted} texts had a finding`);
      const deep = { items: TEXTS.map((t, i) => ({ [t.slice(0, 30)]: t, n: i * 1111111 })) };
      assert.deepEqual(fast.redactDeep(deep), full.redactDeep(deep));
    });
  }
});
