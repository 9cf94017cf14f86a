import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { base64Runs, detectionView, unitClassForTest } from './detect-injection.js';
import { ANSI_SOURCE, ERASED_CHAR_SOURCE } from './sanitise-text.js';

// The view is built from a table of code-unit classes instead of whole-text patterns and a
// normalisation per character. These tests hold it to the definition it replaced: the same view
// on every corpus item and on fuzzed text (composing marks, jamo, escapes, surrogates…), and the
// table itself against the patterns and NFKC on every BMP code unit.

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

// The view as it was written before the table (commit 425e2e3), kept here as the reference.
const CONFUSABLE_CHARS = 'авекмнорстухіјѕԁԛԝһӏԍАВЕКМНОРСТХІЈЅαονρεικτυχϲΑΒΕΖΗΙΚΜΝΟΡΤΥΧ';
const CONFUSABLE_TO = 'abekmhopctyxijsdqwhlgABEKMHOPCTXIJSaovpeiktuxcABEZHIKMNOPTYX';
const CONFUSABLES: Record<string, string> = Object.fromEntries(
  [...CONFUSABLE_CHARS].map((c, i) => [c, CONFUSABLE_TO[i]!]),
);
const CONFUSABLE_CLASS = new RegExp(`[${CONFUSABLE_CHARS}]`, 'u');
const WORD_RE = /[\p{L}\p{M}]{3,}/gu;
const LATIN_RE = /\p{Script=Latin}/u;
const VIEW_PLAIN = /^[\x20-\x7e\t\n]*$/;
const ANSI_SEQUENCE = new RegExp(ANSI_SOURCE, 'g');
const ERASED_ANY = new RegExp(ERASED_CHAR_SOURCE, 'u');
const ERASED_ONE = new RegExp(`^${ERASED_CHAR_SOURCE}$`, 'u');

function referenceView(raw: string): string {
  if (VIEW_PLAIN.test(raw)) return raw;
  const hasErased = ERASED_ANY.test(raw);
  if (!hasErased && !CONFUSABLE_CLASS.test(raw) && raw.normalize('NFKC') === raw) return raw;
  const skip = new Map<number, number>();
  if (hasErased) for (const m of raw.matchAll(ANSI_SEQUENCE)) skip.set(m.index, m.index + m[0].length);
  const out: string[] = [];
  for (let i = 0; i < raw.length;) {
    const skipTo = hasErased ? skip.get(i) : undefined;
    if (skipTo !== undefined) {
      i = skipTo;
      continue;
    }
    const cp = raw.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    if (!ERASED_ONE.test(ch)) out.push(cp < 0x80 ? ch : ch.normalize('NFKC'));
    i += ch.length;
  }
  let text = out.join('');
  if (CONFUSABLE_CLASS.test(text)) {
    text = text.replace(WORD_RE, (word) =>
      LATIN_RE.test(word) && CONFUSABLE_CLASS.test(word)
        ? [...word].map((c) => CONFUSABLES[c] ?? c).join('')
        : word,
    );
  }
  return text;
}

function corpusTexts(): string[] {
  const dirs = ['injection', 'detector'].map((d) => path.join(repoRoot, 'test', 'corpora', d));
  const files = dirs.flatMap((d) =>
    existsSync(d)
      ? readdirSync(d)
          .filter((f) => f.endsWith('.jsonl'))
          .map((f) => path.join(d, f))
      : [],
  );
  const shared = path.join(repoRoot, '..', 'shared', 'corpora', 'injection-dev.jsonl');
  if (existsSync(shared)) files.push(shared);
  return files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => String((JSON.parse(l) as { text: unknown }).text)),
  );
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Characters that exercise every branch: printable ASCII, controls, CR, escapes, combining marks
// (composing and reordering), Hangul jamo, fullwidth and compatibility forms, confusables, zero
// width and bidi controls, variation selectors, tag characters, astral letters, lone surrogates.
const PALETTE = [
  ...'ignore previous AEIOU ',
  '\r',
  '\x00',
  '\x1b[31m',
  '\x1b]0;t\x07',
  '\x9b',
  '\u0301',
  '\u0323',
  '\u0308',
  '\u0345',
  '\u05b0',
  '\u1100',
  '\u1161',
  '\u11a8',
  '가',
  '\u3099',
  'か',
  'ｉ',
  'Ａ',
  'ﬁ',
  '²',
  'ſ',
  'K',
  'é',
  'e',
  'а',
  'о',
  'α',
  'ο',
  'и',
  '\u200b',
  '\u200d',
  '\u202e',
  '\u2028',
  '\ufe0f',
  '\u{e0041}',
  '\u{1d422}',
  '😀',
  '\ud800',
  '\udc00',
  '中',
  '’',
  '—',
];

describe('detector view', () => {
  it('is the reference view on every corpus item and its variants', () => {
    const texts = corpusTexts();
    assert.ok(texts.length > 1000);
    for (const t of texts) {
      for (const v of [t, t.replace(/o/g, 'о'), t.replace(/e/g, 'e\u0301'), t.replace(/ /g, '\u200b ')])
        assert.equal(detectionView(v), referenceView(v), JSON.stringify(v.slice(0, 80)));
    }
  });

  it('is the reference view on fuzzed text', () => {
    const next = random(18);
    for (let n = 0; n < 20000; n++) {
      const parts: string[] = [];
      // Short texts too: a pair that composes only matters when nothing else forces the slow path.
      const length = 1 + Math.floor(next() * (n % 2 === 0 ? 24 : 4));
      for (let k = 0; k < length; k++) parts.push(PALETTE[Math.floor(next() * PALETTE.length)]!);
      const t = parts.join('');
      assert.equal(detectionView(t), referenceView(t), JSON.stringify(t));
    }
  });

  it('classes every BMP code unit as the patterns and NFKC do', () => {
    for (let u = 0; u < 0x10000; u++) {
      const c = unitClassForTest(u);
      const at = `U+${u.toString(16)}`;
      if (u >= 0xd800 && u <= 0xdfff) {
        assert.ok(c.surrogate, at);
        continue;
      }
      const ch = String.fromCharCode(u);
      assert.ok(!c.surrogate, at);
      assert.equal(c.erased, ERASED_ONE.test(ch), at);
      assert.equal(c.confusable, CONFUSABLE_CLASS.test(ch), at);
      assert.equal(c.nfkcUnsafe, ch.normalize('NFKC') !== ch, at);
    }
  });

  it('classes the characters the raw checks look for', () => {
    for (const u of [0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x202d, 0x202e])
      assert.ok(unitClassForTest(u).erased, `U+${u.toString(16)}`);
    for (const c of CONFUSABLE_CHARS) assert.ok(unitClassForTest(c.charCodeAt(0)).confusable, c);
    // A tag character is a surrogate pair.
    assert.ok(unitClassForTest('\u{e0041}'.charCodeAt(0)).surrogate);
  });

  it('finds the base64 runs the pattern it replaced finds', () => {
    const BASE64_RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,}={0,2}/g;
    const next = random(64);
    const units = ['A', 'z', '9', '+', '/', '_', '-', '=', '==', ' ', '.', 'é', '\n'];
    for (let n = 0; n < 5000; n++) {
      const parts: string[] = [];
      const length = Math.floor(next() * 160);
      for (let k = 0; k < length; k++) {
        // Mostly base64 characters, so runs of 40 and more are common.
        const u = next() < 0.9 ? units[Math.floor(next() * 7)]! : units[Math.floor(next() * units.length)]!;
        parts.push(u);
      }
      const t = parts.join('');
      assert.deepEqual(
        base64Runs(t).map((m) => [m.index, m[0]]),
        [...t.matchAll(BASE64_RUN)].map((m) => [m.index, m[0]]),
        t,
      );
    }
  });
});
