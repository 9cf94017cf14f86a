// `node dist/bench/output-stage.js [rounds]`: CPU µs per call of the output stage and of its
// parts, in-process, on clean text (the common case): the memory_search result the gateway bench
// returns, and 1 KB items cut from the detector corpora. Each figure is the median over `rounds`
// rounds of process CPU time (user + system, so a busy machine inflates it less than wall clock)
// per call; parts are measured in alternation, round by round, so drift hits all alike.
import fs from 'node:fs';
import path from 'node:path';
import { SEED_NOTES } from './request.js';
import { createOutputGuard, createRedactor, detectInjection, sanitiseResult } from '../src/safety/index.js';

const rounds = Number(process.argv[2] ?? 15);
const here = import.meta.dirname;
const corpusDir = path.resolve(here, '../../test/corpora/detector');

/** What memory_search returns for "benchmark" over the seeded notes (ids are base64url). */
function memorySearchResult(): {
  content: { type: 'text'; text: string }[];
  structuredContent: Record<string, unknown>;
} {
  const items = SEED_NOTES.filter((n) => n.content.includes('benchmark')).map((n, i) => ({
    id: `note_${Buffer.from(`bench-note-${i}-0123456789`).toString('base64url').slice(0, 22)}`,
    title: n.title,
    snippet: n.content,
  }));
  const lines = items.map((i) => `- ${i.id} (${i.title}): ${i.snippet}`);
  return {
    content: [{ type: 'text', text: `Found ${items.length} note(s):\n${lines.join('\n')}` }],
    structuredContent: { items },
  };
}

function corpusItems(n: number): string[] {
  const texts = fs
    .readdirSync(corpusDir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) =>
      fs
        .readFileSync(path.join(corpusDir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { text: string }).text),
    );
  const joined = texts.join('\n');
  const out: string[] = [];
  for (let at = 0; at + 1024 <= joined.length && out.length < n; at += 7919)
    out.push(joined.slice(at, at + 1024));
  return out;
}

const guard = createOutputGuard({
  maxTextBytes: 256 * 1024,
  maxDepth: 32,
  injectionAction: 'annotate',
  injectionActions: {},
  piiTools: [],
});
// The gateway always knows some secrets (its signing material): the literal alternation runs.
guard.setKnownSecrets(['0123456789abcdef0123456789abcdef', 'Zm9vYmFyYmF6cXV4cXV1eHh4eHh4eHh4']);
const redactor = createRedactor({ secrets: ['0123456789abcdef0123456789abcdef'] });
const tool = { name: 'memory_search', labels: ['private-data'] as const };
const result = memorySearchResult();
// What secure() hands the detector: the text block and every string of structuredContent.
const joinedSearch = [
  result.content[0]!.text,
  ...(result.structuredContent.items as Record<string, string>[]).flatMap((i) => [i.id, i.title, i.snippet]),
].join('\n\n');
const items = corpusItems(400);

const cases: Record<string, () => void> = {
  'secure(memory_search)': () => void guard.secure({ ...tool, labels: [...tool.labels] }, result),
  'detect rules (memory_search)': () =>
    void detectInjection(joinedSearch, { kind: 'tool-output', engine: 'rules' }),
  'detect hybrid (memory_search)': () => void detectInjection(joinedSearch, { kind: 'tool-output' }),
  'sanitiseResult (memory_search)': () => void sanitiseResult(result),
  'redactDeep (memory_search)': () => void redactor.redactDeep(result),
  'detect rules, 1 KB corpus item': () => {
    for (const t of items) detectInjection(t, { kind: 'tool-output', engine: 'rules' });
  },
};
const perCall: Record<string, number> = {
  'secure(memory_search)': 1,
  'detect rules (memory_search)': 1,
  'detect hybrid (memory_search)': 1,
  'sanitiseResult (memory_search)': 1,
  'redactDeep (memory_search)': 1,
  'detect rules, 1 KB corpus item': items.length,
};
const reps: Record<string, number> = {
  'secure(memory_search)': 400,
  'detect rules (memory_search)': 400,
  'detect hybrid (memory_search)': 200,
  'sanitiseResult (memory_search)': 2000,
  'redactDeep (memory_search)': 2000,
  'detect rules, 1 KB corpus item': 2,
};

for (const fn of Object.values(cases)) for (let i = 0; i < 50; i++) fn(); // warm-up
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(cases)) {
    const n = reps[name]!;
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) fn();
    const t = process.cpuUsage(t0);
    samples[name]!.push((t.user + t.system) / (n * perCall[name]!));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, xs] of Object.entries(samples)) {
  console.log(`${name.padEnd(34)} ${median(xs).toFixed(1).padStart(8)} µs/call (CPU, median of ${rounds})`);
}
