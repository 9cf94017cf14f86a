import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { detectInjection, detectInjectionExhaustive, type InjectionKind } from './detect-injection.js';

// The keyword prefilter may only skip work, never change a result: on every corpus item, in both
// kinds, and on variants that stress case folding and the normalised view, the prefiltered
// detector and the exhaustive one give identical reports (verdict, score and every finding).

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

function corpusTexts(): string[] {
  const dirs = [path.join(repoRoot, 'test', 'corpora', 'injection')];
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

/** Each text, and the same text shouted, whispered, fullwidth and interleaved with invisibles. */
function variants(text: string): string[] {
  const fullwidth = text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
  return [
    text,
    text.toUpperCase(),
    text.toLowerCase(),
    fullwidth,
    text.replace(/ /g, '\u200b '),
    text.replace(/o/g, 'о'), // Cyrillic о inside Latin words
    Buffer.from(text).toString('base64'),
  ];
}

const KINDS: InjectionKind[] = ['tool-output', 'tool-description'];

describe('the injection detector keyword prefilter', () => {
  const texts = corpusTexts();

  it('has corpora to compare on', () => {
    assert.ok(texts.length >= 300, `only ${texts.length} corpus items`);
  });

  it('gives the same report as the exhaustive detector on every corpus item and its variants', () => {
    let compared = 0;
    let flagged = 0;
    for (const text of texts) {
      for (const v of variants(text)) {
        for (const kind of KINDS) {
          const fast = detectInjection(v, { kind });
          assert.deepEqual(
            fast,
            detectInjectionExhaustive(v, { kind }),
            `differs on (${kind}): ${v.slice(0, 200)}`,
          );
          compared++;
          if (fast.verdict !== 'clean') flagged++;
        }
      }
    }
    // The comparison means something only if the corpus exercises the rules.
    assert.ok(flagged > compared / 10, `only ${flagged} of ${compared} flagged`);
  });

  it('gives the same report on every sentence of the corpus joined with its neighbours', () => {
    const sentences = texts.flatMap((t) => t.split(/(?<=[.!?\n])\s+/));
    for (let i = 0; i + 3 <= sentences.length; i += 2) {
      const text = sentences.slice(i, i + 3).join(' ');
      for (const kind of KINDS) {
        assert.deepEqual(detectInjection(text, { kind }), detectInjectionExhaustive(text, { kind }), text);
      }
    }
  });
});
