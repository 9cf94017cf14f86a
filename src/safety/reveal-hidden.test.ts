import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeForTerminal, escapeJsonForTerminal, revealHidden, revealHiddenText } from './reveal-hidden.js';

describe('revealHidden', () => {
  it('leaves ordinary text, tabs, newlines and plain spaces alone', () => {
    const text = 'Line one\n\tcafé, 日本語, שלום, emoji 🎉';
    assert.deepEqual(revealHidden(text), [{ kind: 'text', text }]);
  });

  it('names bidi controls, zero-width characters and odd spaces in place', () => {
    assert.equal(
      revealHiddenText('Pay \u202eecila\u202c bo\u200bb\u00a0now'),
      'Pay ⟦U+202E right-to-left override⟧ecila⟦U+202C pop directional formatting⟧ ' +
        'bo⟦U+200B zero width space⟧b⟦U+00A0 no-break space⟧now',
    );
    assert.equal(
      revealHiddenText('\u2066x\u2069\ufeff'),
      '⟦U+2066 left-to-right isolate⟧x⟦U+2069 pop directional isolate⟧⟦U+FEFF zero width no-break space⟧',
    );
  });

  it('shows the message hidden in tag characters, and controls and lone surrogates by code', () => {
    const tags = String.fromCodePoint(0xe0049, 0xe0067);
    assert.equal(revealHiddenText(`a${tags}`), 'a⟦U+E0049 tag "I"⟧⟦U+E0067 tag "g"⟧');
    assert.equal(revealHiddenText('a\x07b\x85c\ud800d'), 'a⟦U+0007⟧b⟦U+0085⟧c⟦U+D800⟧d');
  });

  it('names a variation selector by its code and keeps the text around it whole', () => {
    const parts = revealHidden('x\ufe0fy');
    assert.deepEqual(parts, [
      { kind: 'text', text: 'x' },
      { kind: 'hidden', label: 'U+FE0F' },
      { kind: 'text', text: 'y' },
    ]);
  });
});

describe('escapeForTerminal', () => {
  it('shows escape sequences, carriage returns and C1 controls as visible escapes', () => {
    assert.equal(
      escapeForTerminal('x\x1b]52;c;aGk=\x07\x1b[2K\radmin\x9b0m\x7f'),
      'x\\x1b]52;c;aGk=\\x07\\x1b[2K\\radmin\\x9b0m\\x7f',
    );
  });

  it('shows bidi, zero-width, tag characters and lone surrogates by code point', () => {
    assert.equal(
      escapeForTerminal(`\u202eevil\u200b${String.fromCodePoint(0xe0049)}\ud800`),
      '<U+202E>evil<U+200B><U+E0049><U+D800>',
    );
  });

  it('escapes tabs and newlines unless line breaks are meant, and leaves letters of any script alone', () => {
    assert.equal(escapeForTerminal('a\tb\nc'), 'a\\tb\\nc');
    assert.equal(escapeForTerminal('a\tb\nc', { lineBreaks: true }), 'a\\tb\nc');
    assert.equal(escapeForTerminal('Zoë 日本 שלום 🎉'), 'Zoë 日本 שלום 🎉');
  });

  it('changes nothing when applied twice', () => {
    const once = escapeForTerminal('\x1b[31m\u202e');
    assert.equal(escapeForTerminal(once), once);
  });
});

describe('escapeJsonForTerminal', () => {
  it('escapes DEL, C1, bidi and invisible characters inside strings and keeps the value', () => {
    const value = { name: '\u202eevil\x9b\x7f\u200b', tag: String.fromCodePoint(0xe0049), plain: 'Zoë' };
    const json = escapeJsonForTerminal(JSON.stringify(value));
    assert.equal(json, '{"name":"\\u202eevil\\u009b\\u007f\\u200b","tag":"\\udb40\\udc49","plain":"Zoë"}');
    assert.deepEqual(JSON.parse(json), value);
  });
});
