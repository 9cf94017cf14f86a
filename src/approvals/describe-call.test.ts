import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openMemoryStorage } from '../storage/index.js';
import { describeCall } from './describe-call.js';

const notes = openMemoryStorage().notes;
const tools = new Map([
  [
    'gh__delete_issue',
    { upstream: 'gh', approvalText: 'Deletes the issue #{number} of {repo}, with its {comments} comments.' },
  ],
  ['gh__plain', { upstream: 'gh' }],
]);
const toolNamed = (name: string) => tools.get(name);
const call = (tool: string, args: unknown, upstream: string | null = 'gh') => ({
  tool,
  upstream,
  args: JSON.stringify(args),
  subject: 'alice',
  tenant: 'alice',
});

describe("an upstream tool's approval text", () => {
  it("fills the operator's sentence with the call's arguments", async () => {
    const d = await describeCall(
      call('gh__delete_issue', { number: 42, repo: 'acme/api', comments: 3 }),
      notes,
      toolNamed,
    );
    assert.equal(
      d?.summary.value,
      'Deletes the issue #<strong>42</strong> of <strong>acme/api</strong>, with its <strong>3</strong> comments.',
    );
    assert.match(d.detail.value, /In the words of this gateway's operator/);
  });

  it('says "(not given)" for a missing argument, and adds nothing for a tool without a sentence', async () => {
    const d = await describeCall(call('gh__delete_issue', { number: 7 }), notes, toolNamed);
    assert.match(d!.summary.value, /of <em>\(not given\)<\/em>/);
    assert.equal(await describeCall(call('gh__plain', {}), notes, toolNamed), undefined);
    assert.equal(await describeCall(call('gh__unknown', {}), notes, toolNamed), undefined);
  });

  it('uses the sentence only for the upstream the tool belongs to', async () => {
    assert.equal(
      await describeCall(call('gh__delete_issue', { number: 1 }, 'other'), notes, toolNamed),
      undefined,
    );
  });
});
