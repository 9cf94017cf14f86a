import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitiseResult, truncationNotice } from './sanitise-result.js';

describe('sanitiseResult', () => {
  it('sanitises text blocks, string fields of other blocks and all of structuredContent, keys too', () => {
    const input = {
      content: [
        { type: 'text', text: '\x1b[31mhi\u200b\x1b[0m' },
        { type: 'image', data: 'iVBORw0\u200bKGgo=', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///a', text: 'x\u202ey' } },
      ],
      structuredContent: { 'ke\u200by': ['a\x07b', { deep: 'c\ufeffd', n: 3, ok: true, none: null }] },
      isError: false,
    };
    const { result, removed, truncated } = sanitiseResult(input);
    assert.deepEqual(result, {
      content: [
        { type: 'text', text: 'hi' },
        // Binary payloads are bytes for the client, not language for the model: untouched.
        { type: 'image', data: 'iVBORw0\u200bKGgo=', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///a', text: 'xy' } },
      ],
      structuredContent: { key: ['ab', { deep: 'cd', n: 3, ok: true, none: null }] },
      isError: false,
    });
    assert.deepEqual(removed, { ansi: 2, invisible: 4, control: 1 });
    assert.equal(truncated, false);
    assert.equal(input.content[0]?.text, '\x1b[31mhi\u200b\x1b[0m', 'input is not modified');
  });

  it('cuts the text where the budget runs out, appends the notice and drops later text blocks', () => {
    const input = {
      content: [
        { type: 'text', text: 'a'.repeat(60) },
        { type: 'text', text: 'b'.repeat(60) },
        { type: 'text', text: 'c'.repeat(60) },
      ],
    };
    const { result, truncated } = sanitiseResult(input, { maxTextBytes: 100 });
    assert.equal(truncated, true);
    assert.deepEqual(result.content, [
      { type: 'text', text: 'a'.repeat(60) },
      { type: 'text', text: `${'b'.repeat(40)}\n${truncationNotice(100)}` },
    ]);
  });

  it('does not split a multi-byte character when cutting', () => {
    const { result } = sanitiseResult({ content: [{ type: 'text', text: 'éééé' }] }, { maxTextBytes: 5 });
    assert.equal((result.content?.[0] as { text: string }).text, `éé\n${truncationNotice(5)}`);
  });

  it('empties structured strings after the cut', () => {
    const { result } = sanitiseResult(
      { structuredContent: { a: 'x'.repeat(10), b: 'y'.repeat(10) } },
      { maxTextBytes: 12 },
    );
    assert.deepEqual(result.structuredContent, { a: 'x'.repeat(10), b: `yy\n${truncationNotice(12)}` });
  });

  it('replaces values nested deeper than the limit with a notice', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100; i++) deep = { next: deep };
    const { result } = sanitiseResult({ structuredContent: deep }, { maxDepth: 3 });
    assert.deepEqual(result.structuredContent, {
      next: { next: { next: '[portcullis: nested deeper than 3 levels]' } },
    });
  });

  it('keeps a hostile "__proto__" key as an own key, not as the copy\'s prototype', () => {
    const structuredContent = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": "b"}') as Record<
      string,
      unknown
    >;
    const { result } = sanitiseResult({ content: [], structuredContent });
    const out = result.structuredContent;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.ok(Object.hasOwn(out, '__proto__'));
    assert.deepEqual(Object.keys(out), ['__proto__', 'a']);
    assert.equal((out as { polluted?: unknown }).polluted, undefined);
  });
});
