// CPU A/B of builds of the injection model: loads each module named on the command line (a
// compiled injection-model.js, e.g. one built from an older commit into /tmp) into one process
// and scores the same 1 KB views (cut from the detector corpora, as eval-detector does) in
// alternating rounds, so every build sees the same machine load. Prints the median CPU µs per KB.
// Usage: node dist/scripts/detector/ab-model.js A/injection-model.js [B/injection-model.js …]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { detectionView } from '../../src/safety/index.js';

interface ModelModule {
  committedModel(): unknown;
  scoreWithModel(text: string, kind: 'tool-output', model: unknown): { probability: number };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const files = process.argv.slice(2);
if (files.length === 0) throw new Error('name one or more compiled injection-model.js files');
const mods = await Promise.all(
  files.map(async (f) => (await import(pathToFileURL(path.resolve(f)).href)) as ModelModule),
);
const joined = ['frozen', 'validation']
  .flatMap((c) =>
    readFileSync(path.join(repoRoot, 'test', 'corpora', 'detector', `${c}.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => String((JSON.parse(l) as { text: unknown }).text)),
  )
  .join('\n');
const views: string[] = [];
for (let at = 0; at + 1024 <= joined.length && views.length < 400; at += 7919)
  views.push(detectionView(joined.slice(at, at + 1024)));
const models = mods.map((m) => m.committedModel());
const samples: number[][] = mods.map(() => []);
let sink = 0;
for (let round = 0; round < 25; round++) {
  mods.forEach((m, j) => {
    const t0 = process.cpuUsage();
    for (let k = 0; k < 4; k++)
      for (const v of views) sink += m.scoreWithModel(v, 'tool-output', models[j]).probability;
    const c = process.cpuUsage(t0);
    // The first five rounds warm the JIT up.
    if (round >= 5) samples[j]!.push((c.user + c.system) / (4 * views.length));
  });
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
files.forEach((f, j) => console.log(`${f}: median ${median(samples[j]!).toFixed(2)} CPU µs per 1 KB view`));
console.log(`(checksum ${sink.toFixed(3)})`);
