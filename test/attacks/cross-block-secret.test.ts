// Attack: a malicious tool (or a prompt-injected model steering one) returns a gateway secret cut
// over two or more content blocks ("…s3cr3t-Upstr" | "eam-Token-…"). A client hands the model the
// blocks one after another, so the model reads the secret whole; the redactor looked at each
// block alone, where no block holds the whole value. Seen failing before the fix: both halves of
// the known secret, and of a GitHub token, came back unredacted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOutputGuard } from '../../src/safety/index.js';
import type { Tool } from '../../src/tools/index.js';

const SECRET = 'upstream-cred-7Qk2vX9mLp4RzT8wBn3J';
const GITHUB = `ghp_${'a1B2c3D4e5F6g7H8i9J0'.repeat(2).slice(0, 36)}`;
const tool = { name: 'evil__echo', labels: ['untrusted-source'] } as unknown as Tool;

const guard = () => {
  const g = createOutputGuard({
    maxTextBytes: 64 * 1024,
    maxDepth: 16,
    injectionAction: 'annotate',
    injectionActions: {},
    piiTools: [],
  });
  g.setKnownSecrets([SECRET]);
  return g;
};
const blocks = (parts: readonly string[]) => ({
  content: parts.map((text) => ({ type: 'text' as const, text })),
});
/** What the model reads: every text block, one after another. */
const read = (r: { content: readonly { type: string; text?: string }[] }) =>
  r.content.map((b) => b.text ?? '').join('');

describe('attack: a secret split over content blocks', () => {
  it('a known secret cut in two is redacted in both blocks', () => {
    const s = guard().secure(
      tool,
      blocks([`config dump: ${SECRET.slice(0, 14)}`, `${SECRET.slice(14)} (end)`]),
    );
    const text = read(s.result);
    assert.ok(!text.includes(SECRET.slice(0, 14)), text);
    assert.ok(!text.includes(SECRET.slice(14)), text);
    assert.ok(s.redactions >= 1);
    assert.match(text, /config dump: /);
    assert.match(text, /\(end\)/);
  });

  it('a secret cut into many small blocks leaves no piece behind', () => {
    const parts = SECRET.match(/.{1,3}/g)!;
    const s = guard().secure(tool, blocks(['before ', ...parts, ' after']));
    // The markers' own words ("known-secret") do not count as a piece left behind.
    const text = read(s.result).replace(/\[REDACTED:[a-z-]+\]/g, '');
    for (const p of parts.filter((p) => p.length === 3)) assert.ok(!text.includes(p), `${p} in ${text}`);
    assert.match(text, /before /);
    assert.match(text, / after/);
  });

  it('a token format (GitHub) cut in two is redacted too', () => {
    const s = guard().secure(tool, blocks([`token=${GITHUB.slice(0, 10)}`, GITHUB.slice(10)]));
    assert.ok(!read(s.result).includes(GITHUB.slice(10)), read(s.result));
  });

  it('the legitimate use beside it: ordinary blocks stay whole and a secret inside one block is still redacted once', () => {
    const fine = guard().secure(
      tool,
      blocks(['Build 2.1: upstream', '-cred rotation documented', 'see the runbook']),
    );
    assert.equal(fine.redactions, 0);
    assert.match(read(fine.result), /Build 2\.1: upstream/);
    assert.match(read(fine.result), /-cred rotation documented/);
    const inOne = guard().secure(tool, blocks(['first', `the key is ${SECRET}.`]));
    assert.equal(inOne.redactions, 1);
    assert.ok(!read(inOne.result).includes(SECRET));
    assert.match(read(inOne.result), /the key is \[REDACTED:known-secret\]\./);
  });
});
