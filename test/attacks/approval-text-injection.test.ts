// Attack: a caller (or a prompt-injected model) puts markup, bidi overrides or a placeholder of
// its own into the arguments of a destructive upstream call, so the approval page's "what it will
// change" sentence reads as something else: a link, a hidden word, "keeps" instead of "deletes",
// or another argument's value. Each argument is shown as escaped text with control, bidi and
// invisible characters removed, cut short, and filled in once (never expanded again).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeCall } from '../../src/approvals/index.js';
import { openMemoryStorage } from '../../src/storage/index.js';

const notes = openMemoryStorage().notes;
const toolNamed = () => ({ upstream: 'gh', approvalText: 'Deletes the repository {repo} for good.' });
const describeWith = (repo: unknown) =>
  describeCall(
    { tool: 'gh__delete_repo', upstream: 'gh', args: JSON.stringify({ repo }), subject: 'a', tenant: 'a' },
    notes,
    toolNamed,
  );

describe('attack: arguments that rewrite the approval sentence', () => {
  it('markup in an argument is shown as text, never as markup', async () => {
    const d = await describeWith(
      '</strong><a href="https://evil.example">safe-looking</a><script>x()</script>',
    );
    assert.doesNotMatch(d!.summary.value, /<a |<script>|<\/strong><a/);
    assert.match(d!.summary.value, /&lt;a href=&quot;https:\/\/evil.example&quot;&gt;/);
  });

  it('bidi overrides and invisible characters are removed, so the words read in the order sent', async () => {
    const d = await describeWith('acme/\u202Eipa\u202C\u200B-prod\u0007');
    assert.equal(d!.summary.value, 'Deletes the repository <strong>acme/ipa-prod</strong> for good.');
  });

  it('a placeholder inside an argument is not expanded, and a huge value is cut', async () => {
    const d = await describeWith('{repo}{repo}');
    assert.equal(d!.summary.value, 'Deletes the repository <strong>{repo}{repo}</strong> for good.');
    const long = await describeWith('x'.repeat(5000));
    assert.ok(long!.summary.value.length < 300);
  });

  it('the legitimate sentence beside them reads as the operator wrote it', async () => {
    const d = await describeWith('acme/api');
    assert.equal(d!.summary.value, 'Deletes the repository <strong>acme/api</strong> for good.');
  });
});
