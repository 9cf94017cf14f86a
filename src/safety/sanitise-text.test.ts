import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitiseText } from './sanitise-text.js';

describe('sanitiseText', () => {
  it('leaves ordinary text with tabs and newlines unchanged', () => {
    const text = 'Line one\n\tindented — café, 日本語, emoji 🎉';
    assert.deepEqual(sanitiseText(text), { text, removed: { ansi: 0, invisible: 0, control: 0 } });
  });

  it('strips CSI colour codes, cursor movement and 8-bit CSI', () => {
    const r = sanitiseText('\x1b[31mred\x1b[0m \x1b[2J\x1b[1;1Hcleared \x9b1mbold');
    assert.equal(r.text, 'red cleared bold');
    assert.equal(r.removed.ansi, 5);
  });

  it('strips OSC hyperlinks and window-title sequences with either terminator', () => {
    const r = sanitiseText('\x1b]8;;https://evil.test\x07click\x1b]8;;\x07 \x1b]0;owned\x1b\\title');
    assert.equal(r.text, 'click title');
    assert.equal(r.removed.ansi, 3);
  });

  it('strips DCS, APC and two-byte escapes, and the bare ESC of an unterminated sequence', () => {
    const r = sanitiseText('a\x1bP1$r0m\x1b\\b\x1b_payload\x9cc\x1bcd\x1b(Be\x1b]unterminated');
    assert.equal(r.text, 'abcdeunterminated');
    assert.ok(r.removed.ansi >= 4);
  });

  it('removes C0 and C1 controls but keeps tab and newline, turning CRLF into LF', () => {
    const r = sanitiseText('a\x00b\x07c\x08d\re\x85f\r\ng\th\x7f');
    assert.equal(r.text, 'abcdef\ng\th');
    assert.equal(r.removed.control, 6);
  });

  it('removes zero-width, bidi-control, BOM, soft hyphen, word joiner and tag characters', () => {
    const hidden = String.fromCodePoint(0xe0049, 0xe0067, 0xe006e); // tag "Ign"
    const r = sanitiseText(
      `ig\u200bnore\u200d \u202eevil\u202c \ufeffx\u00ady\u2060z\u2066q\u2069${hidden}!`,
    );
    assert.equal(r.text, 'ignore evil xyzq!');
    assert.equal(r.removed.invisible, 12);
  });

  it('removes Hangul filler letters used as invisible padding', () => {
    assert.equal(sanitiseText('a\u3164b\uffa0c\u115fd').text, 'abcd');
  });

  it('keeps a single variation selector but removes a smuggling run of them', () => {
    assert.equal(sanitiseText('\u2764\ufe0f').text, '\u2764\ufe0f');
    const smuggled = '\u{1F600}' + String.fromCodePoint(0xe0100, 0xe0101, 0xe0102, 0xfe01);
    const r = sanitiseText(smuggled);
    assert.equal(r.text, '\u{1F600}' + String.fromCodePoint(0xe0100));
    assert.equal(r.removed.invisible, 3);
  });

  it('removes lone surrogates but keeps paired ones', () => {
    const r = sanitiseText('a\ud800b\udc00c\u{1F600}');
    assert.equal(r.text, 'abc\u{1F600}');
    assert.equal(r.removed.control, 2);
  });

  it('NFKC-folds fullwidth and mathematical letters to plain ones', () => {
    assert.equal(sanitiseText('\uff29\uff47\uff4e\uff4f\uff52\uff45 𝐚𝐥𝐥').text, 'Ignore all');
  });

  it('handles a megabyte of unterminated escape sequences', () => {
    const r = sanitiseText('\x1b]'.repeat(350_000));
    assert.equal(r.text, '');
  });
});
