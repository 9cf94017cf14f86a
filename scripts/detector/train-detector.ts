// Trains the injection model (src/safety/injection-model.ts) on test/corpora/detector/
// {train,validation}.jsonl, picks a probability threshold per kind from predictions
// cross-validated by template (each fold's model never saw the templates it is scored on), and
// writes the weights module src/safety/injection-model-weights.ts. Deterministic for a seed.
// Usage: node dist/scripts/detector/train-detector.js [--epochs N] [--l2 X] [--rate X]
//   [--folds N] [--target-fpr X] [--dry-run]
//
// Logistic regression, AdaGrad, L2, multiple-instance over windows: a benign text is negative in
// every window, an attack is positive in its strongest window (the instruction is somewhere in
// it, not everywhere). Weights are quantised to int8 before thresholds are chosen, so the
// thresholds belong to the weights that ship.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  collectFeatures,
  detectInjection,
  detectionView,
  DIMENSIONS,
  featureIndex,
  MODEL_MIN_LENGTH,
  featurePosition,
  scoreWithModel,
  STRIDE,
  windowCount,
  type ModelKind,
} from '../../src/safety/index.js';
import { quantiseModel } from '../../src/safety/injection-model.js';
import { rng } from './grammar.js';

interface Row {
  readonly text: string;
  readonly template: string;
  readonly label: 'attack' | 'benign';
  readonly kind: ModelKind;
  readonly category: string;
}

export interface Example {
  readonly y: number;
  readonly kind: ModelKind;
  /** Feature indices per window. */
  readonly windows: Int32Array[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function loadRows(file: string): Row[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      return {
        text: String(o.text),
        template: String(o.template),
        label: o.label === 'attack' ? 'attack' : 'benign',
        kind: o.kind === 'tool-description' ? 'tool-description' : 'tool-output',
        category: typeof o.category === 'string' ? o.category : 'uncategorised',
      };
    });
}

export function toExample(row: Omit<Row, 'template' | 'category'>): Example {
  const view = detectionView(row.text);
  const total = collectFeatures(view);
  const nw = windowCount(view.length);
  const lists: number[][] = Array.from({ length: nw }, () => []);
  for (let i = 0; i < total; i++) {
    const k = Math.floor(featurePosition(i) / STRIDE);
    if (k < nw) lists[k]!.push(featureIndex(i));
    if (k >= 1 && k - 1 < nw) lists[k - 1]!.push(featureIndex(i));
  }
  return {
    y: row.label === 'attack' ? 1 : 0,
    kind: row.kind,
    windows: lists.filter((l) => l.length > 0).map((l) => Int32Array.from(l)),
  };
}

export interface TrainOptions {
  readonly epochs: number;
  readonly l2: number;
  readonly rate: number;
  readonly seed: number;
}

export function train(
  examples: readonly Example[],
  opts: TrainOptions,
): { w: Float32Array; bias: Record<ModelKind, number> } {
  const w = new Float32Array(DIMENSIONS);
  const g2 = new Float32Array(DIMENSIONS).fill(1e-6);
  const bias: Record<ModelKind, number> = { 'tool-output': 0, 'tool-description': 0 };
  const bg2: Record<ModelKind, number> = { 'tool-output': 1e-6, 'tool-description': 1e-6 };
  const rand = rng(opts.seed);
  const order = examples.map((_e, i) => i);
  // Each kind's attacks and benign items weigh the same in total, so the per-kind bias learns no
  // prior from how many of each the corpus happens to hold (short texts are mostly bias).
  const counts = new Map<string, number>();
  for (const ex of examples) counts.set(`${ex.kind}/${ex.y}`, (counts.get(`${ex.kind}/${ex.y}`) ?? 0) + 1);
  const classWeight = (ex: Example): number => {
    const own = counts.get(`${ex.kind}/${ex.y}`) ?? 1;
    const other = counts.get(`${ex.kind}/${1 - ex.y}`) ?? own;
    return (own + other) / (2 * own);
  };
  const margin = (x: Int32Array, kind: ModelKind): number => {
    let s = 0;
    for (let j = 0; j < x.length; j++) s += w[x[j]!]!;
    return s / Math.sqrt(x.length) + bias[kind];
  };
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let loss = 0;
    for (const idx of order) {
      const ex = examples[idx]!;
      const targets: Int32Array[] = [];
      if (ex.y === 0) targets.push(...ex.windows);
      else {
        let best = ex.windows[0]!;
        let bestZ = -Infinity;
        for (const x of ex.windows) {
          const z = margin(x, ex.kind);
          if (z > bestZ) {
            bestZ = z;
            best = x;
          }
        }
        targets.push(best);
      }
      for (const x of targets) {
        const z = margin(x, ex.kind);
        const p = 1 / (1 + Math.exp(-z));
        loss += -(ex.y * Math.log(p + 1e-12) + (1 - ex.y) * Math.log(1 - p + 1e-12));
        const err = (p - ex.y) * classWeight(ex);
        const v = 1 / Math.sqrt(x.length);
        for (let j = 0; j < x.length; j++) {
          const f = x[j]!;
          const g = err * v + opts.l2 * w[f]!;
          g2[f]! += g * g;
          w[f]! -= (opts.rate * g) / Math.sqrt(g2[f]!);
        }
        bg2[ex.kind] += err * err;
        bias[ex.kind] -= (opts.rate * err) / Math.sqrt(bg2[ex.kind]);
      }
    }
    if (epoch === opts.epochs - 1)
      console.log(`  last epoch: mean loss ${(loss / examples.length).toFixed(4)}`);
  }
  return { w, bias };
}

/**
 * The lowest probability threshold at which the model adds at most `targetFpr` false positives
 * (as a share of the benign items of `kind`) to those the rules already make: the rules stay as
 * they are, so their own false positives are not the model's budget.
 */
function pickThreshold(
  rows: Row[],
  probs: number[],
  rulesFlag: boolean[],
  kind: ModelKind,
  targetFpr: number,
): Pick {
  const idx = rows.map((_r, i) => i).filter((i) => rows[i]!.kind === kind);
  const benign = idx.filter((i) => rows[i]!.label === 'benign');
  const attacks = idx.filter((i) => rows[i]!.label === 'attack');
  // Only benign items the rules leave clean can be the model's false positives.
  const open = benign.filter((i) => !rulesFlag[i]).map((i) => probs[i]!);
  open.sort((a, b) => b - a);
  const allowed = Math.floor(targetFpr * benign.length);
  const threshold = Math.min(0.999, Math.max(0.05, (open[allowed] ?? 0) + 1e-6));
  const flagged = (i: number): boolean => rulesFlag[i]! || probs[i]! >= threshold;
  return {
    threshold,
    tpr: attacks.filter(flagged).length / Math.max(1, attacks.length),
    fpr: benign.filter(flagged).length / Math.max(1, benign.length),
  };
}

interface Pick {
  readonly threshold: number;
  readonly tpr: number;
  readonly fpr: number;
}

function templateFold(template: string, folds: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < template.length; i++) h = Math.imul(h ^ template.charCodeAt(i), 16777619);
  return (h >>> 0) % folds;
}

function main(): void {
  const args = process.argv.slice(2);
  const num = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    const v = Number(args[i + 1]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name} needs a non-negative number`);
    return v;
  };
  const dir = path.join(repoRoot, 'test', 'corpora', 'detector');
  // Train and validation together, cross-validated by template: every threshold is chosen on
  // predictions for templates the fold's model never saw. frozen.jsonl is not read here.
  const rows = [...loadRows(path.join(dir, 'train.jsonl')), ...loadRows(path.join(dir, 'validation.jsonl'))];
  const t0 = Date.now();
  const examples = rows.map(toExample);
  const views = rows.map((r) => detectionView(r.text));
  const rulesFlag = rows.map(
    (r) => detectInjection(r.text, { kind: r.kind, engine: 'rules' }).verdict !== 'clean',
  );
  console.log(`features for ${examples.length} items in ${Date.now() - t0} ms`);
  const opts: TrainOptions = {
    epochs: num('--epochs', 8),
    l2: num('--l2', 1e-3),
    rate: num('--rate', 0.2),
    seed: num('--seed', 18),
  };
  const folds = num('--folds', 5);
  const oof = new Array<number>(rows.length).fill(0);
  for (let f = 0; f < folds; f++) {
    const inFold = rows.map((r) => templateFold(r.template, folds) === f);
    const { w, bias } = train(
      examples.filter((_e, i) => !inFold[i]),
      opts,
    );
    const model = quantiseModel(w, bias);
    rows.forEach((r, i) => {
      // The detector does not ask the model about short texts; neither does the threshold.
      if (inFold[i] && views[i]!.length >= MODEL_MIN_LENGTH)
        oof[i] = scoreWithModel(views[i]!, r.kind, model).probability;
    });
    console.log(`fold ${f + 1}/${folds} done`);
  }
  const targetFpr = num('--target-fpr', 0.01);
  const picks = {
    'tool-output': pickThreshold(rows, oof, rulesFlag, 'tool-output', targetFpr),
    'tool-description': pickThreshold(rows, oof, rulesFlag, 'tool-description', targetFpr),
  };
  for (const [kind, p] of Object.entries(picks)) {
    console.log(
      `${kind}: threshold ${p.threshold.toFixed(4)}, cross-validated hybrid TPR ${(100 * p.tpr).toFixed(1)}% FPR ${(100 * p.fpr).toFixed(1)}%`,
    );
  }
  if (args.includes('--dry-run')) return;
  const { w, bias } = train(examples, opts);
  const { weights: q, scale } = quantiseModel(w, bias);
  const thresholds = {
    'tool-output': picks['tool-output'].threshold,
    'tool-description': picks['tool-description'].threshold,
  };
  const b64 = Buffer.from(q.buffer).toString('base64');
  const out = path.join(repoRoot, 'src', 'safety', 'injection-model-weights.ts');
  writeFileSync(
    out,
    [
      '// Generated by scripts/detector/train-detector.ts from test/corpora/detector/{train,validation}.jsonl',
      `// (thresholds cross-validated by template; options ${JSON.stringify({ ...opts, folds, targetFpr })}).`,
      '// Do not edit: retrain.',
      'export const MODEL: {',
      '  readonly weights: string;',
      '  readonly scale: number;',
      "  readonly bias: { readonly 'tool-output': number; readonly 'tool-description': number };",
      "  readonly thresholds: { readonly 'tool-output': number; readonly 'tool-description': number };",
      '} = {',
      `  weights: '${b64}',`,
      `  scale: ${scale},`,
      `  bias: { 'tool-output': ${bias['tool-output']}, 'tool-description': ${bias['tool-description']} },`,
      `  thresholds: { 'tool-output': ${thresholds['tool-output']}, 'tool-description': ${thresholds['tool-description']} },`,
      '};',
      '',
    ].join('\n'),
  );
  console.log(`wrote ${path.relative(repoRoot, out)} (${b64.length} base64 characters)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main();
