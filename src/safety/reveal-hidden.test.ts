import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { revealHidden, revealHiddenText } from './reveal-hidden.js';

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
