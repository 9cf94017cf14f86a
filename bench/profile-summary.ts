// Reads a V8 .cpuprofile (from `node --cpu-prof`) and prints the top functions by self time and
// by inclusive time; with a third argument, also writes a simple icicle graph (SVG) of the call
// tree; with a fourth (the number of calls the profile covers), also the ablation table and the
// time per call. Usage: node dist/bench/profile-summary.js <file.cpuprofile> [out.txt] [out.svg] [calls]
import fs from 'node:fs';
import path from 'node:path';
import { ablationFromProfile, formatAblation } from './ablation.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, outTxt, outSvg, callsArg] = process.argv.slice(2);
const calls = callsArg ? Number(callsArg) : undefined;
if (!file) {
  process.stderr.write('usage: profile-summary <file.cpuprofile> [out.txt] [out.svg]\n');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** Microseconds of samples that landed in each node (its self time). */
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

const SRC = /\/(dist|node_modules)\//;
function label(f: CallFrame): string {
  const raw = f.functionName || '(anonymous)';
  const name = raw.length > 100 ? `${raw.slice(0, 100)}…` : raw;
  if (!f.url) return name;
  const m = SRC.exec(f.url);
  const where = m ? f.url.slice(m.index + 1) : path.basename(f.url);
  return `${name} ${where.replace(/^node_modules\//, '')}:${f.lineNumber + 1}`;
}

// Self time and inclusive time per function (same name, file and line). Inclusive time counts a
// sample once per function even when the function is on the stack more than once (recursion).
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const leaf = byId.get(id)!;
  self.set(label(leaf.callFrame), (self.get(label(leaf.callFrame)) ?? 0) + us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!.callFrame);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + us);
  }
}

function top(map: Map<string, number>, n: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([l, us]) =>
        `${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ` +
        `${calls ? `${(us / calls).toFixed(0).padStart(5)} µs/call  ` : ''}${l}`,
    );
}

// Where the time goes by package (the file's owner): a coarse view that survives inlining.
const byPackage = new Map<string, number>();
for (const [id, us] of selfUs) {
  const url = byId.get(id)!.callFrame.url;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  const key = m
    ? m[1]!
    : url.includes('/dist/src/')
      ? `portcullis ${url.split('/dist/src/')[1]!.split('/')[0]}/`
      : url.startsWith('node:')
        ? 'node core'
        : url
          ? 'other'
          : byId.get(id)!.callFrame.functionName;
  byPackage.set(key, (byPackage.get(key) ?? 0) + us);
}

const text = [
  `profile: ${path.basename(file)}, ${(totalUs / 1e6).toFixed(1)} s sampled, ${profile.samples.length} samples` +
    (calls ? `, ${calls} calls` : ''),
  '',
  ...(calls
    ? [
        'ablation (CPU charged to the innermost control on the stack)',
        ...formatAblation(ablationFromProfile(file, calls)),
        '',
      ]
    : []),
  'top 25 by self time',
  ...top(self, 25),
  '',
  'top 25 by inclusive time',
  ...top(inclusive, 25),
  '',
  'self time by package or folder',
  ...top(byPackage, 20),
  '',
].join('\n');
if (outTxt) fs.writeFileSync(outTxt, text);
process.stdout.write(text);

if (outSvg) {
  // Icicle: the root spans the width; each child is drawn below its parent with a width
  // proportional to its inclusive time. Boxes narrower than a pixel are dropped.
  const incl = new Map<number, number>();
  const sum = (id: number): number => {
    const n = byId.get(id)!;
    const v = (selfUs.get(id) ?? 0) + (n.children ?? []).reduce((a, c) => a + sum(c), 0);
    incl.set(id, v);
    return v;
  };
  const root = profile.nodes[0]!.id;
  sum(root);
  const W = 1600;
  const H = 16;
  const rects: string[] = [];
  let maxDepth = 0;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const draw = (id: number, x: number, depth: number) => {
    const w = ((incl.get(id) ?? 0) / totalUs) * W;
    if (w < 1) return;
    maxDepth = Math.max(maxDepth, depth);
    const l = label(byId.get(id)!.callFrame);
    const hue = (l.length * 37) % 60;
    const pct = (((incl.get(id) ?? 0) / totalUs) * 100).toFixed(1);
    rects.push(
      `<g><title>${esc(l)} (${pct}%)</title><rect x="${x.toFixed(1)}" y="${depth * H}" width="${w.toFixed(1)}" height="${H - 1}" fill="hsl(${hue},80%,60%)"/>` +
        (w > 40
          ? `<text x="${(x + 2).toFixed(1)}" y="${depth * H + 12}" font-size="11" font-family="monospace">${esc(l.slice(0, Math.floor(w / 7)))}</text>`
          : '') +
        '</g>',
    );
    let cx = x;
    for (const c of byId.get(id)!.children ?? []) {
      draw(c, cx, depth + 1);
      cx += ((incl.get(c) ?? 0) / totalUs) * W;
    }
  };
  draw(root, 0, 0);
  fs.writeFileSync(
    outSvg,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${(maxDepth + 1) * H}">${rects.join('')}</svg>\n`,
  );
}
