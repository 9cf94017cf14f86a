// Evaluates the prompt-injection detector on labelled corpora and prints, per file and per
// category: count, TPR (attacks flagged suspicious or malicious), FPR (benign items flagged) and
// mean microseconds per item. Usage: node dist/scripts/eval-detector.js
//
// Corpora: test/corpora/injection/*.jsonl (dev.jsonl is tuned on, holdout.jsonl never is) and,
// when present, ../shared/corpora/injection-dev.jsonl beside the repository (partly tuned on).
// Lines are {"text", "label": "attack"|"benign", "category", "source", "kind"?}; `kind` defaults
// to tool-output.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectInjection, type InjectionKind } from '../src/safety/index.js';
import { detectInjectionExhaustive } from '../src/safety/detect-injection.js';

interface Item {
  readonly text: string;
  readonly label: 'attack' | 'benign';
  readonly category: string;
  readonly kind: InjectionKind;
}

interface Tally {
  attacks: number;
  caught: number;
  benign: number;
  flagged: number;
  micros: number;
  items: number;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function corpusFiles(): string[] {
  const own = path.join(repoRoot, 'test', 'corpora', 'injection');
  const files = existsSync(own)
    ? readdirSync(own)
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .map((f) => path.join(own, f))
    : [];
  const shared = path.join(repoRoot, '..', 'shared', 'corpora', 'injection-dev.jsonl');
  if (existsSync(shared)) files.push(shared);
  return files;
}

function load(file: string): Item[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      return {
        text: String(o.text),
        label: o.label === 'attack' ? 'attack' : 'benign',
        category: typeof o.category === 'string' ? o.category : 'uncategorised',
        kind: o.kind === 'tool-description' ? 'tool-description' : 'tool-output',
      };
    });
}

const empty = (): Tally => ({ attacks: 0, caught: 0, benign: 0, flagged: 0, micros: 0, items: 0 });
const pct = (n: number, d: number): string =>
  d === 0 ? '    -' : `${((100 * n) / d).toFixed(1).padStart(5)}%`;

function line(name: string, t: Tally): string {
  return [
    name.padEnd(40),
    String(t.items).padStart(5),
    `TPR ${pct(t.caught, t.attacks)} (${t.caught}/${t.attacks})`.padEnd(22),
    `FPR ${pct(t.flagged, t.benign)} (${t.flagged}/${t.benign})`.padEnd(22),
    `${(t.micros / Math.max(1, t.items)).toFixed(1).padStart(7)} µs/item`,
  ].join('  ');
}

function evaluate(file: string): void {
  const items = load(file);
  // Warm up so the first items do not pay for regex compilation and JIT.
  for (const item of items.slice(0, 50)) detectInjection(item.text, { kind: item.kind });
  const total = empty();
  const byCategory = new Map<string, Tally>();
  for (const item of items) {
    const t0 = process.hrtime.bigint();
    const report = detectInjection(item.text, { kind: item.kind });
    const micros = Number(process.hrtime.bigint() - t0) / 1000;
    // The keyword prefilter must not change any result: compare with every rule run.
    const exhaustive = detectInjectionExhaustive(item.text, { kind: item.kind });
    if (JSON.stringify(exhaustive) !== JSON.stringify(report))
      prefilterMismatches.push(item.text.slice(0, 120));
    const flagged = report.verdict !== 'clean';
    const key = `${item.label}/${item.category}`;
    const cat = byCategory.get(key) ?? empty();
    byCategory.set(key, cat);
    for (const t of [total, cat]) {
      t.items += 1;
      t.micros += micros;
      if (item.label === 'attack') {
        t.attacks += 1;
        if (flagged) t.caught += 1;
      } else {
        t.benign += 1;
        if (flagged) t.flagged += 1;
      }
    }
  }
  console.log(`\n== ${path.relative(repoRoot, file)}`);
  for (const [key, t] of [...byCategory].sort(([a], [b]) => a.localeCompare(b)))
    console.log(line(`  ${key}`, t));
  console.log(line('  OVERALL', total));
}

const prefilterMismatches: string[] = [];
const files = corpusFiles();
if (files.length === 0) {
  console.error('eval-detector: no corpus files found');
  process.exit(1);
}
for (const file of files) evaluate(file);
console.log(
  prefilterMismatches.length === 0
    ? '\nkeyword prefilter: identical reports on every item'
    : `\nkeyword prefilter: ${prefilterMismatches.length} item(s) differ:\n${prefilterMismatches.join('\n')}`,
);
if (prefilterMismatches.length > 0) process.exitCode = 1;
