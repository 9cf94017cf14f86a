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

// What a terminal acts on or a person cannot see: the hidden characters above, plus tab and
// newline, which move the cursor (a newline in a table cell is a forged row).
const TERMINAL_RE = new RegExp(`${HIDDEN_RE.source}|[\\t\\n]`, 'gu');
const SHORT_ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function terminalEscape(char: string): string {
  const cp = char.codePointAt(0)!;
  const short = SHORT_ESCAPES[char];
  if (short) return short;
  // C0, DEL and C1 in the `\x1b` form people know from escape sequences; the rest by code point.
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return `\\x${cp.toString(16).padStart(2, '0')}`;
  return `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * Text for a terminal: every character a terminal would act on (ESC and the sequences it starts,
 * BEL, CR, backspace, C1 controls such as the 8-bit CSI) or a person could not see (bidi
 * controls, zero-width and other invisible characters, look-alike spaces) is shown as a visible
 * escape — `\x1b`, `\r`, `<U+202E>` — so printed data can neither drive the terminal (OSC 52
 * writes the clipboard) nor forge or reorder what is shown. Newlines are escaped too unless
 * `lineBreaks` is set, for text whose line breaks are meant. Escapes are plain ASCII, so
 * escaping twice changes nothing.
 */
export function escapeForTerminal(text: string, opts: { lineBreaks?: boolean } = {}): string {
  return text.replace(TERMINAL_RE, (char) =>
    char === '\n' && opts.lineBreaks ? char : terminalEscape(char),
  );
}

/**
 * JSON text for a terminal: JSON.stringify escapes C0 but leaves DEL, C1, bidi and invisible
 * characters raw inside strings. Each becomes its `\uXXXX` escape — the same JSON value, so
 * parsers read exactly what was stored. Outside strings JSON has only ASCII, so only string
 * contents change.
 */
export function escapeJsonForTerminal(json: string): string {
  return json.replace(HIDDEN_RE, (char) =>
    Array.from(
      { length: char.length },
      (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`,
    ).join(''),
  );
}
