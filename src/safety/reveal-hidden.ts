import { CONTROL_RE, INVISIBLE_RE } from './sanitise-text.js';

/**
 * Characters a person cannot see, or that change how the text around them is displayed: the
 * ones sanitising strips from outputs (format characters — zero-width, bidi embeddings,
 * overrides and isolates, BOM, soft hyphen, tag characters — invisible letters, C0/C1 controls,
 * lone surrogates), variation selectors, and spaces and separators other than U+0020 that look
 * like (or unlike) one. Text a person must decide on shows them instead of hiding them.
 */
const HIDDEN_RE = new RegExp(
  `${INVISIBLE_RE.source}|${CONTROL_RE.source}|\\p{Variation_Selector}|[\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]`,
  'gu',
);

const NAMES: Record<number, string> = {
  0x00a0: 'no-break space',
  0x00ad: 'soft hyphen',
  0x061c: 'arabic letter mark',
  0x200b: 'zero width space',
  0x200c: 'zero width non-joiner',
  0x200d: 'zero width joiner',
  0x200e: 'left-to-right mark',
  0x200f: 'right-to-left mark',
  0x2028: 'line separator',
  0x2029: 'paragraph separator',
  0x202a: 'left-to-right embedding',
  0x202b: 'right-to-left embedding',
  0x202c: 'pop directional formatting',
  0x202d: 'left-to-right override',
  0x202e: 'right-to-left override',
  0x2060: 'word joiner',
  0x2066: 'left-to-right isolate',
  0x2067: 'right-to-left isolate',
  0x2068: 'first strong isolate',
  0x2069: 'pop directional isolate',
  0xfeff: 'zero width no-break space',
};

export type RevealedPart =
  | { readonly kind: 'text'; readonly text: string }
  /** A hidden character, named: `U+202E right-to-left override`, `U+E0069 tag "i"`. */
  | { readonly kind: 'hidden'; readonly label: string };

function label(char: string): string {
  const cp = char.codePointAt(0)!;
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  // Tag characters mirror ASCII; naming the letter shows the message smuggled in them.
  if (cp >= 0xe0020 && cp <= 0xe007e) return `${code} tag "${String.fromCodePoint(cp - 0xe0000)}"`;
  const name = NAMES[cp];
  return name ? `${code} ${name}` : code;
}

/** The text split into visible runs and named hidden characters, in logical order. */
export function revealHidden(text: string): RevealedPart[] {
  const parts: RevealedPart[] = [];
  let last = 0;
  for (const m of text.matchAll(HIDDEN_RE)) {
    if (m.index > last) parts.push({ kind: 'text', text: text.slice(last, m.index) });
    parts.push({ kind: 'hidden', label: label(m[0]) });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

/** The same as plain text: each hidden character as `⟦U+202E right-to-left override⟧`. */
export function revealHiddenText(text: string): string {
  return revealHidden(text)
    .map((p) => (p.kind === 'text' ? p.text : `⟦${p.label}⟧`))
    .join('');
}
