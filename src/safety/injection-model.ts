/**
 * The trained half of the injection detector: logistic regression over hashed word uni-, bi- and
 * trigrams, the first two words of each clause, leetspeak words read as letters and character
 * 4-grams of the detector's normalised view. Pure code, no
 * I/O: the weights are a generated module (injection-model-weights.ts, written by
 * scripts/detector/train-detector.ts). Long texts are scored in overlapping windows and the
 * strongest window wins, so an instruction buried in a long page is not diluted by the page.
 */
import { MODEL } from './injection-model-weights.js';

export type ModelKind = 'tool-output' | 'tool-description';

export const HASH_BITS = 18;
export const DIMENSIONS = 1 << HASH_BITS;
const MASK = DIMENSIONS - 1;
/**
 * Below this many view characters a text is mostly the model's bias: names, enum values and
 * "Greets someone." are left to the rules.
 */
export const MODEL_MIN_LENGTH = 24;
/** Window length and stride in view characters. */
export const WINDOW = 512;
export const STRIDE = 256;
const STRIDE_BITS = 8;

// Seeds keep the feature families apart in the one hashed space.
const SEED_CHAR = 0x811c9dc5;
const SEED_WORD = 0x2f6b1d37;
const SEED_BIGRAM = 0x5bd1e995;
const SEED_CLAUSE = 0x1b873593;
const SEED_DELEET = 0x68e31da4;
const SEED_TRIGRAM = 0x3c6ef372;
const SEED_CLAUSE2 = 0x7f4a7c15;
const FNV_PRIME = 16777619;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & MASK;
}

// Line ends as the rules' line starts know them: LF, CR, and the Unicode line and paragraph
// separators (an injected line ended by U+2028 must read as one ended by a line feed).
const isLineBreak = (u: number): boolean => u === 10 || u === 13 || u === 0x2028 || u === 0x2029;
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 0xa0 || c === 0x3000 || isLineBreak(c);
// Letters, digits, apostrophe, underscore; anything past Latin-1 punctuation that is not a
// general-punctuation or CJK-punctuation code point counts as a letter.
function isWordChar(c: number): boolean {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 39 || c === 95;
  if (c < 0xc0) return false;
  if (c >= 0x2000 && c <= 0x2bff) return false;
  if (c >= 0x3000 && c <= 0x303f) return false;
  if (c >= 0xff00 && c <= 0xff0f) return false;
  return true;
}
// Characters after which the next word starts a clause, where imperatives sit. A line break
// starts one too (tested on the raw code unit, before whitespace becomes a space): an injected
// instruction often stands on a line of its own ("Assistant: …", a bare imperative after a heading).
const isClauseEnd = (c: number): boolean =>
  c === 46 ||
  c === 33 ||
  c === 63 ||
  c === 58 ||
  c === 59 ||
  c === 62 ||
  c === 93 ||
  c === 0x3002 ||
  c === 0xff1a;

const WORD_CHAR = 1;
const CLAUSE_END = 2;
let charTable: Uint16Array | undefined;
let classTable: Uint8Array | undefined;
/**
 * Per UTF-16 code unit, built once (about 5 ms): the character as the model reads it
 * (lowercased, whitespace as a space) and its class bits, so the hot loop does two table reads
 * per character instead of a chain of comparisons.
 */
function buildTables(): void {
  const chars = new Uint16Array(65536);
  const classes = new Uint8Array(65536);
  for (let u = 0; u < 65536; u++) {
    let c = u;
    if (u >= 65 && u <= 90) c = u | 0x20;
    else if (u >= 128) {
      const l = String.fromCharCode(u).toLowerCase();
      c = l.length === 1 ? l.charCodeAt(0) : u;
    }
    if (isSpace(c)) c = 32;
    chars[u] = c;
    classes[u] = (isWordChar(c) ? WORD_CHAR : 0) | (isClauseEnd(c) || isLineBreak(u) ? CLAUSE_END : 0);
  }
  charTable = chars;
  classTable = classes;
}
// Leetspeak digits read as the letters they stand for (0 → o, 1 → i, 3 → e, 4 → a, 5 → s, 7 → t);
// 0 in the table means "not a leet digit".
const DELEET = new Uint8Array(128);
for (const [digit, letter] of ['0o', '1i', '3e', '4a', '5s', '7t'])
  DELEET[digit!.charCodeAt(0)] = letter!.charCodeAt(0);

/** Feature buffers of `collectFeatures`, reused across calls: weight index and view position. */
let featIndex = new Int32Array(4096);
let featPos = new Int32Array(4096);
let featCount = 0;
/** Sums of int8 weights and feature counts per 256-character block, reused by `scoreWithModel`. */
let blockSum = new Int32Array(64);
let blockCount = new Int32Array(64);
/** Units of work of the last call: characters read, features emitted, windows compared. */
let work = 0;

function push(index: number, pos: number): void {
  if (featCount === featIndex.length) {
    const grownI = new Int32Array(featCount * 2);
    grownI.set(featIndex);
    featIndex = grownI;
    const grownP = new Int32Array(featCount * 2);
    grownP.set(featPos);
    featPos = grownP;
  }
  featIndex[featCount] = index;
  featPos[featCount] = pos;
  featCount++;
}

/**
 * Where a feature goes. With weights (`scoreWithModel`) its weight is added to the sum of its
 * 256-character block and the block's count goes up: nothing is stored per feature and each is
 * looked up once. Without (`collectFeatures`, the trainer's path) it is recorded.
 */
function emit(q: Int8Array | null, bs: Int32Array, bc: Int32Array, index: number, pos: number): void {
  if (q !== null) {
    const b = pos >>> STRIDE_BITS;
    bs[b]! += q[index]!;
    bc[b]!++;
  } else push(index, pos);
}

/**
 * Reads `text` (the detector's view) once, left to right, and emits every feature with its view
 * position. One featuriser for training and scoring, so they cannot drift apart. Returns the
 * number of characters read.
 */
function featurise(text: string, q: Int8Array | null, bs: Int32Array, bc: Int32Array): number {
  if (!charTable || !classTable) buildTables();
  const chars = charTable!;
  const classes = classTable!;
  // The last three characters seen (c4 newest), with whitespace runs collapsed to one space; the
  // text starts as if after a space.
  let c2 = 0,
    c3 = 0,
    c4 = 32;
  let seen = 1;
  let word = SEED_WORD;
  let wordDeleet = SEED_DELEET;
  let wordLen = 0;
  let hasLeet = false;
  let hasLetter = false;
  let prevWord = 0;
  let prevWord2 = 0;
  // 0: the next word starts a clause; 1: it is the clause's second word; 2: later.
  let clauseWord = 0;
  let clauseFirst = 0;
  const n = text.length;
  let i = 0;
  for (; i <= n; i++) {
    let c = 32;
    let cls = 0;
    if (i < n) {
      const u = text.charCodeAt(i);
      c = chars[u]!;
      cls = classes[u]!;
    }
    if ((cls & WORD_CHAR) !== 0) {
      word = Math.imul(word ^ c, FNV_PRIME);
      const d = c < 128 ? DELEET[c]! : 0;
      if (d !== 0) hasLeet = true;
      else if (c >= 97) hasLetter = true;
      wordDeleet = Math.imul(wordDeleet ^ (d || c), FNV_PRIME);
      wordLen++;
    } else if (wordLen > 0) {
      const pos = i - 1;
      emit(q, bs, bc, fmix(word), pos);
      const bigram = Math.imul(prevWord, 31) ^ word;
      emit(q, bs, bc, fmix(bigram ^ SEED_BIGRAM), pos);
      emit(q, bs, bc, fmix(Math.imul(prevWord2, 961) ^ bigram ^ SEED_TRIGRAM), pos);
      // Where imperatives sit: "send the…", "ignore all…", "please add…".
      if (clauseWord === 0) {
        emit(q, bs, bc, fmix(word ^ SEED_CLAUSE), pos);
        clauseFirst = word;
      } else if (clauseWord === 1)
        emit(q, bs, bc, fmix(Math.imul(clauseFirst, 31) ^ word ^ SEED_CLAUSE2), pos);
      if (hasLeet && hasLetter) emit(q, bs, bc, fmix(wordDeleet), pos);
      prevWord2 = prevWord;
      prevWord = word;
      word = SEED_WORD;
      wordDeleet = SEED_DELEET;
      wordLen = 0;
      hasLeet = false;
      hasLetter = false;
      if (clauseWord < 2) clauseWord++;
    }
    if ((cls & CLAUSE_END) !== 0) clauseWord = 0;
    if (i === n) break;
    if (c === 32 && c4 === 32) continue;
    seen++;
    if (seen >= 4) {
      let h = Math.imul(SEED_CHAR ^ c, FNV_PRIME);
      h = Math.imul(h ^ c4, FNV_PRIME);
      h = Math.imul(h ^ c3, FNV_PRIME);
      h = Math.imul(h ^ c2, FNV_PRIME);
      emit(q, bs, bc, fmix(h), i);
    }
    c2 = c3;
    c3 = c4;
    c4 = c;
  }
  return i + 1;
}

/**
 * Fills the feature buffers for `text` (the detector's view) and returns how many features it
 * wrote; read them with `featureIndex(i)` and `featurePosition(i)`. Linear in the text length
 * and allocation-free apart from buffer growth. The trainer's path: `scoreWithModel` reads the
 * same features without storing them.
 */
export function collectFeatures(text: string): number {
  featCount = 0;
  work = featurise(text, null, blockSum, blockCount) + featCount;
  return featCount;
}

export const featureIndex = (i: number): number => featIndex[i]!;
export const featurePosition = (i: number): number => featPos[i]!;

/** How many windows a text of `length` view characters is scored in. */
export function windowCount(length: number): number {
  return length <= WINDOW ? 1 : Math.ceil((length - WINDOW) / STRIDE) + 1;
}

export interface ModelWeights {
  /** Quantised weights, one per hashed feature; a weight is `weights[i] * scale`. */
  readonly weights: Int8Array;
  readonly scale: number;
  readonly bias: Readonly<Record<ModelKind, number>>;
}

export interface ModelScore {
  /** Probability that the strongest window is an injection. */
  readonly probability: number;
  /** View offsets of that window. */
  readonly start: number;
  readonly end: number;
}

/**
 * Quantises trained float weights to the int8 form the model ships and scores with. int8, not
 * int16: the table (256 KB) then fits a core's L2 cache beside everything else, and random
 * look-ups into it were about a third of the model's time at int16 (512 KB). The trainer picks
 * the thresholds on these quantised weights, so they belong to what ships.
 */
export function quantiseModel(w: Float32Array, bias: Readonly<Record<ModelKind, number>>): ModelWeights {
  let max = 0;
  for (const x of w) max = Math.max(max, Math.abs(x));
  const scale = max / 127 || 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.round(w[i]! / scale);
  return { weights: q, scale, bias };
}

/**
 * Units of work the last `scoreWithModel` or `collectFeatures` call did: characters read,
 * features emitted and windows compared. Tests use it to check the cost is linear in the input
 * (a count, not a clock).
 */
export const lastWork = (): number => work;

/**
 * Scores `text` (the detector's view) with `model`: the probability of its strongest window.
 * Windows are 512 characters with stride 256, so window k is blocks k and k + 1 of 256
 * characters: each feature is looked up once and added to its block; a window's sum and count are
 * those of its two blocks. The window's value is (Σ weights) / √(features), as in training.
 */
export function scoreWithModel(text: string, kind: ModelKind, model: ModelWeights): ModelScore {
  const n = text.length;
  const blocks = (n >>> STRIDE_BITS) + 2;
  if (blockSum.length < blocks) {
    blockSum = new Int32Array(blocks * 2);
    blockCount = new Int32Array(blocks * 2);
  }
  const bs = blockSum;
  const bc = blockCount;
  bs.fill(0, 0, blocks);
  bc.fill(0, 0, blocks);
  let steps = featurise(text, model.weights, bs, bc);
  for (let b = 0; b < blocks; b++) steps += bc[b]!;
  const windows = windowCount(n);
  let best = -Infinity;
  let bestWindow = 0;
  if (windows === 1) {
    // Most texts: one window holding every block.
    let sum = 0;
    let cnt = 0;
    for (let b = 0; b < blocks; b++) {
      sum += bs[b]!;
      cnt += bc[b]!;
    }
    if (cnt > 0) best = sum / Math.sqrt(cnt);
  } else {
    for (let k = 0; k < windows; k++) {
      steps++;
      const cnt = bc[k]! + bc[k + 1]!;
      if (cnt === 0) continue;
      const z = (bs[k]! + bs[k + 1]!) / Math.sqrt(cnt);
      if (z > best) {
        best = z;
        bestWindow = k;
      }
    }
  }
  work = steps;
  if (best === -Infinity) best = 0;
  const z = best * model.scale + model.bias[kind];
  const start = windows === 1 ? 0 : bestWindow * STRIDE;
  const end = windows === 1 ? n : Math.min(n, start + WINDOW);
  return { probability: 1 / (1 + Math.exp(-z)), start, end };
}

let loaded: ModelWeights | undefined;

/** The committed model, decoded once on first use. */
export function committedModel(): ModelWeights {
  if (!loaded) {
    const raw = Buffer.from(MODEL.weights, 'base64');
    const q = new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength).slice();
    if (q.length !== DIMENSIONS)
      throw new Error(`injection model has ${q.length} weights, expected ${DIMENSIONS}`);
    loaded = { weights: q, scale: MODEL.scale, bias: MODEL.bias };
  }
  return loaded;
}

/** Probability thresholds per kind at which the model alone makes a text suspicious. */
export const MODEL_THRESHOLDS: Readonly<Record<ModelKind, number>> = MODEL.thresholds;
