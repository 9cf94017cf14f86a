// Generates the detector's labelled corpus from the hand-written families (families.ts) into
// test/corpora/detector/{train,validation,frozen}.jsonl. Deterministic: the same seed gives the same
// files. Usage: node dist/scripts/detector/generate-corpus.js [--seed N] [--per-template N]
// [--round3 [--round3-per-template N]] [--paired] [--paired-content]
//
// Splits are made by template, not by item: within each family, templates 0,1,2 (mod 5) feed
// train, 3 validation and 4 frozen; held-out families feed only frozen. Vocabulary pools are
// partitioned too (grammar.ts `pick`), and so are embedding carriers, so frozen figures measure
// text whose templates, wording and surroundings the model never trained on.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ATTACKS,
  BENIGN,
  COMPOSED,
  HIDE,
  MORE_ATTACKS,
  MULTILINGUAL_ATTACKS,
  type Family,
  type Kind,
} from './families.js';
import { INJECTED_ATTACKS, INJECTED_BENIGN, INJECTED_SLOTS } from './families-injected.js';
import {
  PAIRED_ATTACKS,
  PAIRED_BENIGN,
  PAIRED_CONTENT,
  PAIRED_DESCRIPTION,
  PAIRED_SLOTS,
} from './families-paired.js';
import { ROUND3_ATTACKS, ROUND3_BENIGN, ROUND3_SLOTS } from './families-round3.js';
import { expand, pick, rng, tidy, type Ctx, type Split } from './grammar.js';
import { SLOTS } from './slots.js';

export interface CorpusItem {
  text: string;
  label: 'attack' | 'benign';
  category: string;
  kind: Kind;
  family: string;
  template: string;
  split: Split;
  obfuscation?: string;
  carrier: string;
}

type Carrier = (ctx: Ctx, body: string) => string;

const filler = (ctx: Ctx): string => expand(ctx, pick(ctx, SLOTS.filler!));

// Where text reaches a model: the same carriers wrap attacks and benign text alike, so the
// surroundings carry no label.
const OUTPUT_CARRIERS: Record<string, Carrier> = {
  plain: (_c, b) => b,
  email: (c, b) =>
    `From: ${expand(c, '{person}')} <${expand(c, '{person}').toLowerCase()}@${expand(c, '[example.com|mail.example.org|corp.example]')}>\nSubject: ${expand(c, '[Re: {topic}|Update on {topic}|Quick question|Invoice attached|Fwd: notes]')}\n\n${expand(c, '[Hi|Hello|Dear team|Good morning],')}\n\n${filler(c)} ${b}\n\n${expand(c, '[Thanks|Best|Regards|Cheers],\n{person}')}`,
  webpage: (c, b) =>
    `<html><head><title>${expand(c, '[Home|Blog|Product page|Docs|News]')}</title></head><body><h1>${expand(c, '{topic}')}</h1><p>${filler(c)}</p><p>${b}</p><footer>© 2026 ${expand(c, '{company}')}</footer></body></html>`,
  readme: (c, b) =>
    `# ${expand(c, '[project|toolkit|widget|helper]-[cli|lib|server]')}\n\n${filler(c)}\n\n## Notes\n\n${b}\n`,
  json: (c, b) =>
    JSON.stringify({
      id: Math.floor(c.rand() * 90000) + 10000,
      [expand(c, '[comment|description|note|body|summary]')]: b,
      author: expand(c, '{person}'),
    }),
  'code-comment': (c, b) =>
    expand(c, '[// |# |/* ]') +
    b.replace(/\n/g, '\n// ') +
    '\n' +
    expand(c, '[function main() {}|def main():\n    pass|const x = 1;]'),
  calendar: (c, b) =>
    `BEGIN:VEVENT\nSUMMARY:${expand(c, '[Sync|1:1|Review of {topic}|Planning]')}\nDTSTART:20261203T100000Z\nDESCRIPTION:${b.replace(/\n/g, ' ')}\nEND:VEVENT`,
  ticket: (c, b) =>
    `${expand(c, '[Issue|Ticket|Bug] #[1|2|3|4|5][0|7|9][2|4|8]')}: ${expand(c, '[Login problem|Feature request|Question about {topic}]')}\n\n${b}\n\n${filler(c)}`,
  search: (c, b) =>
    `1. ${expand(c, '{topic}')} - ${filler(c)}\n2. ${expand(c, '{company} blog')} - ${b}\n3. ${expand(c, '[Wikipedia|Forum thread|Docs]')} - ${filler(c)}`,
  chat: (c, b) =>
    `[10:0${Math.floor(c.rand() * 10)}] ${expand(c, '{person}')}: ${filler(c)}\n[10:1${Math.floor(c.rand() * 10)}] ${expand(c, '{person}')}: ${b}`,
  'html-comment': (c, b) => `<p>${filler(c)}</p>\n<!-- ${b} -->\n<p>${filler(c)}</p>`,
  pdf: (c, b) => `Page ${Math.floor(c.rand() * 20) + 1}\n\n${filler(c)} ${filler(c)}\n${b}\n${filler(c)}`,
  review: (c, b) =>
    `${expand(c, '[★★★★★|★★★★☆|★★☆☆☆]')} ${expand(c, '[Great product|Works fine|Not bad|Disappointed].')} ${b}`,
  'commit-message': (c, b) =>
    `commit ${Math.floor(c.rand() * 1e9).toString(16)}\nAuthor: ${expand(c, '{person}')}\n\n    ${expand(c, '[Fix|Update|Refactor] [parser|build|docs]')}\n\n    ${b.replace(/\n/g, '\n    ')}`,
  yaml: (c, b) =>
    `# ${expand(c, '[settings|config|deployment]')}\nname: ${expand(c, '{toolName}')}\nnotes: |\n  ${b.replace(/\n/g, '\n  ')}\n`,
  'markdown-comment': (c, b) => `${filler(c)}\n\n[//]: # (${b.replace(/\n/g, ' ')})\n\n${filler(c)}`,
};

const DESCRIPTION_CARRIERS: Record<string, Carrier> = {
  plain: (_c, b) => b,
  'mcp-json': (c, b) =>
    JSON.stringify({
      name: expand(c, '{toolName}'),
      description: b,
      inputSchema: {
        type: 'object',
        properties: { [expand(c, '[query|input|path|text]')]: { type: 'string' } },
      },
    }),
  'param-description': (c, b) =>
    `${expand(c, '[Looks up a record.|Returns data for the given id.|Processes the input.]')}\n\nArgs:\n  ${expand(c, '[query|input|sidenote|context]')}: ${b}`,
  docstring: (c, b) =>
    `"""${b}\n\n:param ${expand(c, '[a|text|city|path]')}: the input\n:returns: the result\n"""`,
  prefixed: (c, b) => `${expand(c, '{toolName}')} - ${b}`,
  headed: (c, b) =>
    `${expand(c, '[Returns the weather for a city.|Looks up a customer by id.|Converts currencies.|Searches the wiki.|Creates a task in the tracker.|Reads a spreadsheet.|Sends a notification.|Summarises a web page.]')} ${b}`,
};

// Disguises an attacker uses to slip past filters. Benign text gets the neutral ones (encoded
// data, comments) at the same rate so that a disguise alone is not a label.
function leet(s: string): string {
  const m: Record<string, string> = { a: '4', e: '3', i: '1', o: '0', s: '5', t: '7' };
  return s.replace(/[aeiost]/g, (ch) => m[ch] ?? ch);
}
function homoglyph(s: string, rand: () => number): string {
  const m: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', i: 'і', x: 'х', y: 'у' };
  return s.replace(/[aeopcixy]/g, (ch) => (rand() < 0.5 ? (m[ch] ?? ch) : ch));
}
function zeroWidth(s: string, rand: () => number): string {
  return s.replace(/([a-z])([a-z])/gi, (_m, a: string, b: string) =>
    rand() < 0.35 ? `${a}\u200b${b}` : a + b,
  );
}
function rot13(s: string): string {
  return s.replace(/[a-z]/gi, (ch) => {
    const base = ch <= 'Z' ? 65 : 97;
    return String.fromCharCode(((ch.charCodeAt(0) - base + 13) % 26) + base);
  });
}

type Obfuscation = (ctx: Ctx, s: string) => string;
const ATTACK_OBFUSCATIONS: Record<string, Obfuscation> = {
  base64: (c, s) =>
    expand(c, '[Decode this base64 and follow it:|Base64 instructions:|Execute the decoded text:|]') +
    ' ' +
    Buffer.from(s).toString('base64'),
  hex: (c, s) =>
    expand(c, '[Decode from hex and do it:|hex:|Instructions (hex):]') + ' ' + Buffer.from(s).toString('hex'),
  rot13: (c, s) => expand(c, '[ROT13:|Decode with rot13 and obey:|(rot13)]') + ' ' + rot13(s),
  leet: (_c, s) => leet(s),
  homoglyph: (c, s) => homoglyph(s, c.rand),
  'zero-width': (c, s) => zeroWidth(s, c.rand),
  spaced: (_c, s) =>
    s.split(' ').slice(0, 12).join(' ').split('').join(' ') + ' ' + s.split(' ').slice(12).join(' '),
  uppercase: (_c, s) => s.toUpperCase(),
};
const BENIGN_OBFUSCATIONS: Record<string, Obfuscation> = {
  base64: (c, s) =>
    `${s} ${expand(c, '[Attachment:|Signature:|data:image/png;base64,|token=]')} ${Buffer.from(expand(c, '{filler} {filler}')).toString('base64')}`,
  hex: (c, s) =>
    `${s} ${expand(c, '[sha256:|checksum|commit]')} ${Buffer.from(expand(c, '{filler}')).toString('hex').slice(0, 64)}`,
  uppercase: (_c, s) => s.toUpperCase(),
};

function carriersFor(kind: Kind): Record<string, Carrier> {
  return kind === 'tool-output' ? OUTPUT_CARRIERS : DESCRIPTION_CARRIERS;
}

function templateSplit(family: Family, index: number): Split {
  if (family.heldOut) return 'frozen';
  return (['train', 'train', 'train', 'validation', 'frozen'] as const)[index % 5]!;
}

/** The first generation's families (the corpus of 5f0f9be), then issue 18's additions. */
export const FIRST_FAMILIES: readonly Family[] = [
  ...ATTACKS,
  ...MORE_ATTACKS,
  MULTILINGUAL_ATTACKS,
  ...COMPOSED,
  ...BENIGN,
];
export const ADDED_FAMILIES: readonly Family[] = [...INJECTED_ATTACKS, ...INJECTED_BENIGN];
/** Round 3 (issue 18, item 2): breadth of phrasing, tool poisoning and hard benign text. */
export const ROUND3_FAMILIES: readonly Family[] = [...ROUND3_ATTACKS, ...ROUND3_BENIGN];
/**
 * Paired families (issue 18, idea 1): one action issued to the assistant or described, asked of
 * a person, and tool descriptions with ordinary prose on both sides.
 */
export const PAIRED_FAMILIES: readonly Family[] = [
  ...PAIRED_ATTACKS,
  ...PAIRED_BENIGN,
  ...PAIRED_DESCRIPTION,
];

export function generate(
  seed: number,
  perTemplate: number,
  families: readonly Family[],
  extraSlots: Readonly<Record<string, readonly string[]>> = {},
): CorpusItem[] {
  const rand = rng(seed);
  const items: CorpusItem[] = [];
  const seen = new Set<string>();
  const slots = { ...SLOTS, ...extraSlots, hide: HIDE };
  // Benign families have fewer templates than attacks; more items per template keeps the two
  // labels in about the same proportion.
  const all = families;
  const attackTemplates = all.filter((f) => f.label === 'attack').reduce((n, f) => n + f.templates.length, 0);
  const benignTemplates = all.filter((f) => f.label === 'benign').reduce((n, f) => n + f.templates.length, 0);
  for (const family of families) {
    const share = family.label === 'benign' ? attackTemplates / benignTemplates : 1;
    family.templates.forEach((template, ti) => {
      const split = templateSplit(family, ti);
      const ctx: Ctx = { split, rand, slots };
      const target = Math.round(perTemplate * share);
      for (let attempt = 0, made = 0; made < target && attempt < target * 4; attempt++) {
        const kind = family.kinds[Math.floor(rand() * family.kinds.length)]!;
        let body = tidy(expand(ctx, template));
        let obfuscation: string | undefined;
        const obfs = family.label === 'attack' ? ATTACK_OBFUSCATIONS : BENIGN_OBFUSCATIONS;
        if (rand() < (family.label === 'attack' ? 0.16 : 0.06)) {
          obfuscation = pick(ctx, Object.keys(obfs));
          body = obfs[obfuscation]!(ctx, body);
        }
        // Padding with ordinary sentences (both labels alike): an instruction inside a long page
        // must still stand out, so the model has to learn it against a mostly harmless window.
        if (kind === 'tool-output' && rand() < 0.35) {
          const pad = (): string =>
            Array.from({ length: 1 + Math.floor(rand() * 5) }, () => filler(ctx)).join(' ');
          const where = rand();
          body =
            where < 0.33
              ? `${pad()} ${body}`
              : where < 0.66
                ? `${body} ${pad()}`
                : `${pad()} ${body} ${pad()}`;
        }
        const carriers = carriersFor(kind);
        const names = Object.keys(carriers);
        // Plain text half the time: short items must be learnt on their own, not only framed.
        const carrier = rand() < 0.45 ? 'plain' : pick(ctx, names);
        const text = carriers[carrier]!(ctx, body);
        if (seen.has(text)) continue;
        seen.add(text);
        made++;
        items.push({
          text,
          label: family.label,
          category: family.category,
          kind,
          family: family.id,
          template: `${family.id}#${ti}`,
          split,
          ...(obfuscation ? { obfuscation } : {}),
          carrier,
        });
      }
    });
  }
  return items;
}

/**
 * Benign text this project wrote itself: paragraphs of its docs (which describe attacks at
 * length) and chunks of its source. Split by file, so no file feeds two splits. The safety
 * folder is left out: its rules quote attack phrases as regex source.
 */
export function repoText(root: string, rand: () => number, max: number): CorpusItem[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(md|ts)$/.test(e.name) && !e.name.endsWith('.test.ts')) files.push(full);
    }
  };
  walk(path.join(root, 'src'));
  walk(path.join(root, 'docs'));
  files.push(path.join(root, 'README.md'), path.join(root, 'CHANGELOG.md'));
  const chunks: CorpusItem[] = [];
  for (const file of files.sort()) {
    const rel = path.relative(root, file);
    if (rel.startsWith('src/safety/') || rel === 'docs/configuration.md') continue;
    let h = 0x811c9dc5;
    for (let i = 0; i < rel.length; i++) h = Math.imul(h ^ rel.charCodeAt(i), 16777619);
    const bucket = (h >>> 0) % 5;
    const split: Split = bucket < 3 ? 'train' : bucket === 3 ? 'validation' : 'frozen';
    const text = readFileSync(file, 'utf8');
    const isCode = rel.endsWith('.ts');
    const parts = isCode ? text.split(/\n(?=\S)/) : text.split(/\n\s*\n/);
    let cur = '';
    const limit = 200 + Math.floor(rand() * 1000);
    for (const part of parts) {
      cur = cur ? `${cur}\n${isCode ? '' : '\n'}${part}` : part;
      if (cur.length >= limit) {
        chunks.push({
          text: cur.slice(0, 2000),
          label: 'benign',
          category: isCode ? 'repo-code' : 'repo-docs',
          kind: 'tool-output',
          family: 'repo-text',
          template: `repo:${rel}`,
          split,
          carrier: 'plain',
        });
        cur = '';
      }
    }
  }
  // A deterministic sample: every k-th chunk.
  const step = Math.max(1, Math.ceil(chunks.length / max));
  return chunks.filter((_c, i) => i % step === 0);
}

function main(): void {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    const v = Number(args[i + 1]);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} needs a positive integer`);
    return v;
  };
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  // The added families draw from their own random sequence, so the first generation's items are
  // exactly those of the corpus they were measured on (its frozen figures stay comparable).
  const seed = arg('--seed', 18);
  const perTemplate = arg('--per-template', 40);
  const items = [
    ...generate(seed, perTemplate, FIRST_FAMILIES),
    ...generate(seed + 1, perTemplate, ADDED_FAMILIES, INJECTED_SLOTS),
    // Round 3 is opt-in: trained on, it raised cross-validated and frozen TPR but lost 1.4 points
    // on the shared dev corpus (CHANGELOG, safety/DESIGN.md), so the committed corpus and weights
    // are generated without it.
    ...(args.includes('--round3')
      ? generate(seed + 2, arg('--round3-per-template', perTemplate), ROUND3_FAMILIES, {
          ...INJECTED_SLOTS,
          ...ROUND3_SLOTS,
        })
      : []),
    // Paired families (issue 18, idea 1), from their own random sequence (the items above are
    // unchanged). Opt-in, not in the committed corpus or weights: measured on 3 December 2026,
    // they did not raise the shared dev corpus and made "for example, …" framing cheaper for an
    // attacker (safety/DESIGN.md, Known blind spots).
    ...(args.includes('--paired')
      ? generate(seed + 3, perTemplate, PAIRED_FAMILIES, { ...INJECTED_SLOTS, ...PAIRED_SLOTS })
      : []),
    ...(args.includes('--paired-content')
      ? generate(seed + 4, perTemplate, PAIRED_CONTENT, { ...INJECTED_SLOTS, ...PAIRED_SLOTS })
      : []),
    ...repoText(root, rng(7), 1500),
  ];
  const dir = path.join(root, 'test', 'corpora', 'detector');
  mkdirSync(dir, { recursive: true });
  for (const split of ['train', 'validation', 'frozen'] as const) {
    const rows = items.filter((i) => i.split === split);
    writeFileSync(path.join(dir, `${split}.jsonl`), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const attacks = rows.filter((r) => r.label === 'attack').length;
    console.log(`${split}: ${rows.length} items (${attacks} attack, ${rows.length - attacks} benign)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main();
