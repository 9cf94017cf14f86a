/* eslint-disable no-control-regex -- matching control characters is what this module is for */
/** How many of each kind of thing sanitising removed; a non-zero count is worth an audit note. */
export interface SanitiseCounts {
  /** Terminal escape sequences (CSI, OSC, DCS/SOS/PM/APC, two-byte escapes). */
  ansi: number;
  /** Invisible or direction-changing code points. */
  invisible: number;
  /** C0/C1 control characters (other than tab and newline) and lone surrogates. */
  control: number;
}

export interface SanitisedText {
  text: string;
  removed: SanitiseCounts;
}

// One alternation, each branch bounded by a character class that cannot run past the next
// escape, so a string full of unterminated sequences is still scanned in linear time.
const ANSI =
  // CSI (7- and 8-bit): parameters, intermediates, final byte.
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|/.source +
  // OSC, DCS, SOS, PM, APC: a string terminated by BEL or ST (ESC \ or 0x9c).
  /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)|/.source +
  // Any other escape: ESC, intermediates, final byte (charset selection, keypad modes, RIS…).
  /\x1b[ -/]*[0-~]/.source;
const ANSI_RE = new RegExp(ANSI, 'g');
/** The escape-sequence pattern the sanitiser removes, for the detector's view (same folder). */
export const ANSI_SOURCE = ANSI;

// Format characters (\p{Cf}: zero-width space/joiners, bidi embeddings, overrides and isolates,
// word joiner and invisible operators, BOM, soft hyphen, tag characters U+E0000–E007F,
// interlinear annotation marks) plus invisible letters that are not Cf: Hangul fillers, the
// combining grapheme joiner, Khmer inherent vowels and the Mongolian vowel separator.
// The combining ones are alternatives rather than class members so no base letter can pair with them.
export const INVISIBLE_RE = /[\p{Cf}\u115f\u1160\u180e\u3164\uffa0]|\u034f|\u17b4|\u17b5/gu;
// C0 except tab and newline, DEL, C1, and surrogates that are not part of a pair (in `u` mode a
// paired surrogate is one code point and never matches this class).
export const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\p{Cs}]/gu;
// Variation selectors legitimately pick one glyph form (emoji vs text, CJK variants), one at a
// time. A run of them carries no glyph meaning and is a known channel for smuggling bytes.
const SELECTOR_RUN_RE = /\p{Variation_Selector}+/gu;
/**
 * One code point the sanitiser deletes (or, for a variation selector, a model does not read):
 * the detector's view drops exactly these, so it reads what the model will read.
 */
export const ERASED_CHAR_SOURCE = String.raw`[\x00-\x08\x0b-\x1f\x7f-\x9f\p{Cs}\p{Cf}\p{Variation_Selector}\u034f\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0]`;
const PLAIN_TEXT = /^[\x20-\x7e\t\n]*$/;

/**
 * Makes text safe to show a model or a terminal: strips escape sequences, controls, invisible and
 * bidi-control characters and surplus variation selectors, then applies NFKC.
 *
 * NFKC rather than NFC: compatibility forms (fullwidth Ａ, mathematical 𝐢𝐠𝐧𝐨𝐫𝐞, ligatures,
 * circled letters) are a common way to dress up instructions so that filters miss them, and a
 * model reads them as the plain letters anyway. The cost is cosmetic (² becomes 2, ﬁ becomes fi).
 * Zero-width joiners go too, which splits joined emoji into their parts; that is the price of
 * closing the zero-width channel.
 */
export function sanitiseText(input: string): SanitisedText {
  const removed: SanitiseCounts = { ansi: 0, invisible: 0, control: 0 };
  // Printable ASCII, tab and newline: no escape, control, CR, invisible or selector character can
  // be in it, and NFKC leaves it as it is, so every step below would return it unchanged.
  if (PLAIN_TEXT.test(input)) return { text: input, removed };
  let text = input.replace(ANSI_RE, () => {
    removed.ansi += 1;
    return '';
  });
  text = text.replace(/\r\n/g, '\n');
  text = text.replace(CONTROL_RE, () => {
    removed.control += 1;
    return '';
  });
  text = text.replace(INVISIBLE_RE, () => {
    removed.invisible += 1;
    return '';
  });
  text = text.replace(SELECTOR_RUN_RE, (run, offset: number) => {
    const chars = Array.from(run);
    const kept = offset === 0 ? '' : (chars[0] ?? '');
    removed.invisible += chars.length - (kept === '' ? 0 : 1);
    return kept;
  });
  return { text: text.normalize('NFKC'), removed };
}
