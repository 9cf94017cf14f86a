// A/B of builds of the whole injection detector: loads each compiled detect-injection.js named on
// the command line (e.g. one built from an older commit into /tmp) into one process and runs the
// same 1 KB items (cut from the corpora as eval-detector does) in alternating rounds, so every
// build sees the same machine load. Per build: the median over items of each item's median
// wall-clock µs per call (eval-detector's figure), and the CPU µs per item over whole rounds.
// Usage: node dist/scripts/detector/ab-detector.js [--engine rules|hybrid] A/detect-injection.js [B/…]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface DetectorModule {
  detectInjection(text: string, options: { kind: 'tool-output'; engine: 'hybrid' | 'rules' }): unknown;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const args = process.argv.slice(2);
let engine: 'hybrid' | 'rules' = 'hybrid';
const e = args.indexOf('--engine');
if (e >= 0) {
  engine = args[e + 1] === 'rules' ? 'rules' : 'hybrid';
  args.splice(e, 2);
}
if (args.length === 0) throw new Error('name one or more compiled detect-injection.js files');
const mods = await Promise.all(
  args.map(async (f) => (await import(pathToFileURL(path.resolve(f)).href)) as DetectorModule),
);
const files = [
  'test/corpora/injection/dev.jsonl',
  'test/corpora/injection/holdout.jsonl',
  'test/corpora/detector/train.jsonl',
  'test/corpora/detector/validation.jsonl',
  'test/corpora/detector/frozen.jsonl',
  '../shared/corpora/injection-dev.jsonl',
  '../../shared/corpora/injection-dev.jsonl',
]
  .map((f) => path.join(repoRoot, f))
  .filter((f) => existsSync(f));
const joined = files
  .flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => String((JSON.parse(l) as { text: unknown }).text)),
  )
  .join('\n');
const items: string[] = [];
for (let at = 0; at + 1024 <= joined.length && items.length < 400; at += 7919)
  items.push(joined.slice(at, at + 1024));
const rounds = 25;
// perItem[module][item] = wall µs of each counted round.
const perItem: number[][][] = mods.map(() => items.map(() => []));
const cpu: number[][] = mods.map(() => []);
let sink = 0;
for (let round = 0; round < rounds; round++) {
  // Alternate which build goes first, so neither always runs on a warmer cache.
  const order = mods.map((_, j) => j);
  if (round % 2 === 1) order.reverse();
  for (const j of order) {
    const m = mods[j]!;
    const t0 = process.cpuUsage();
    items.forEach((text, k) => {
      const w0 = process.hrtime.bigint();
      const report = m.detectInjection(text, { kind: 'tool-output', engine });
      const w = Number(process.hrtime.bigint() - w0) / 1000;
      if (report === null) sink++;
      // The first five rounds warm the JIT up.
      if (round >= 5) perItem[j]![k]!.push(w);
    });
    const c = process.cpuUsage(t0);
    if (round >= 5) cpu[j]!.push((c.user + c.system) / items.length);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
args.forEach((f, j) => {
  const wall = median(perItem[j]!.map(median));
  console.log(
    `${f} (${engine}): median ${wall.toFixed(1)} µs per 1 KB item (wall), ${median(cpu[j]!).toFixed(1)} CPU µs per item (round median)`,
  );
});
if (mods.length > 1) {
  const ratios = items.map((_, k) => median(perItem[1]![k]!) / median(perItem[0]![k]!));
  console.log(`per-item ratio ${args[1]} / ${args[0]}: median ${median(ratios).toFixed(3)}`);
}
console.log(`(${items.length} items, ${rounds - 5} counted rounds; checksum ${sink})`);
