// The ablation table: what each control costs, read from a CPU profile of the Portcullis target
// under load. Every sample is charged to the innermost control on its stack (walking from the
// sampled function towards the root, the first frame whose file belongs to a control), so
// shared code (zod, SQLite, the stores of src/storage, node core) is charged to whoever called
// it: the API-key read to authentication, the taint write to policy, the FTS search to the tool. What belongs to no call
// gets its own line instead of swelling "HTTP, protocol and the rest": the garbage collector,
// V8's `(program)` (native code with no JavaScript frame: the event loop, the parser in C++),
// module loading (any frame of node's module loader) and the profiler itself (node:inspector). Idle time is a line too, outside the
// shares: the shares are of busy samples.
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Control → files (path fragments of dist/src) whose frames count as that control. */
const CONTROLS: readonly (readonly [string, readonly string[]])[] = [
  ['authentication', ['/src/auth/', '/mcp/stages/authenticate.js']],
  ['rate limits', ['/src/ratelimit/', '/mcp/stages/rate-limit.js']],
  ['policy (decide, taint)', ['/src/policy/', '/mcp/stages/decide.js', '/mcp/stages/record-taint.js']],
  [
    'validation (arguments)',
    [
      '/mcp/stages/validate.js',
      '/mcp/stages/check-shape.js',
      '/src/tools/define-tool.js:check',
      '/tools/text-schema.js',
    ],
  ],
  [
    'output stage',
    [
      '/src/safety/',
      '/mcp/stages/secure-output.js',
      '/mcp/stages/check-output.js',
      '/mcp/stages/quarantine.js',
    ],
  ],
  ['audit', ['/src/audit/', '/mcp/stages/record.js', '/mcp/stages/audit-intent.js', '/mcp/stages/finish.js']],
  // Not /src/storage/: the stores are shared (an API-key lookup is authentication's cost).
  ['tool work (memory_search)', ['/src/tools/memory/']],
  ['metrics', ['/src/metrics/', 'prom-client']],
];

export interface AblationRow {
  readonly control: string;
  readonly cpuMs: number;
  readonly share: number;
  readonly microsPerCall: number;
}

/** V8's own nodes with no script: each is a line of its own. */
const VM_NODES = new Set(['(idle)', '(program)', '(garbage collector)']);
const MODULE_LOADING = 'module loading';
/** The profiler's own work (Profiler.stop builds the profile inside the last sample). */
const PROFILER = '(profiler)';
export const IDLE = '(idle)';

export function ablationFromProfile(file: string, calls: number): AblationRow[] {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const charged = new Map<number, string>();
  const controlOf = (id: number): string => {
    const known = charged.get(id);
    if (known) return known;
    let found = 'HTTP, protocol and the rest';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!f.url && VM_NODES.has(f.functionName)) {
        found = f.functionName;
        break;
      }
      if (f.url === 'node:inspector' || f.url === 'node:inspector/promises') {
        found = PROFILER;
        break;
      }
      if (f.url.startsWith('node:internal/modules/')) {
        found = MODULE_LOADING;
        break;
      }
      const where = `${f.url}:${f.functionName}`;
      const hit = CONTROLS.find(([, parts]) => parts.some((part) => where.includes(part)));
      if (hit) {
        found = hit[0];
        break;
      }
    }
    charged.set(id, found);
    return found;
  };
  const us = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const c = controlOf(p.samples[i]!);
    us.set(c, (us.get(c) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const idle = us.get(IDLE) ?? 0;
  us.delete(IDLE);
  const busy = [...us.values()].reduce((a, b) => a + b, 0);
  const row = (control: string, v: number, share: number): AblationRow => ({
    control,
    cpuMs: Math.round(v / 1000),
    share,
    microsPerCall: Math.round(v / Math.max(1, calls)),
  });
  return [
    ...[...us.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([control, v]) => row(control, v, Math.round((v / busy) * 1000) / 10)),
    // Idle is not a cost, but how much there was says whether the process was saturated.
    row(IDLE, idle, 0),
  ];
}

/** The ablation table as aligned text lines (idle last, with no share). */
export function formatAblation(rows: readonly AblationRow[]): string[] {
  const table = [
    ['control', 'sampled ms', '% of busy samples', 'µs per call'],
    ...rows.map((a) => [
      a.control,
      String(a.cpuMs),
      a.control === IDLE ? '-' : String(a.share),
      String(a.microsPerCall),
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
  );
}

export function printAblation(rows: readonly AblationRow[]): void {
  for (const line of formatAblation(rows)) process.stdout.write(`${line}\n`);
}
