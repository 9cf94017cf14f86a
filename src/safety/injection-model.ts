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

let lowerTable: Uint16Array | undefined;
function lower(c: number): number {
  if (c < 128) return c >= 65 && c <= 90 ? c | 0x20 : c;
  if (!lowerTable) {
    lowerTable = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) {
      const l = String.fromCharCode(i).toLowerCase();
      lowerTable[i] = l.length === 1 ? l.charCodeAt(0) : i;
    }
  }
  return lowerTable[c]!;
}

const isSpace = (c: number): boolean =>
  c === 32 || c === 10 || c === 9 || c === 13 || c === 0xa0 || c === 0x3000;
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
// Characters after which the next word starts a clause, where imperatives sit.
const isClauseEnd = (c: number): boolean =>
  c === 46 ||
  c === 33 ||
  c === 63 ||
  c === 10 ||
  c === 58 ||
  c === 59 ||
  c === 62 ||
  c === 93 ||
  c === 0x3002 ||
  c === 0xff1a;
// Leetspeak digits read as the letters they stand for (0 → o, 1 → i, 3 → e, 4 → a, 5 → s, 7 → t);
// 0 in the table means "not a leet digit".
const DELEET = new Uint8Array(128);
for (const [digit, letter] of ['0o', '1i', '3e', '4a', '5s', '7t'])
  DELEET[digit!.charCodeAt(0)] = letter!.charCodeAt(0);

/** Feature buffers, reused across calls: index into the weights and view position per feature. */
let featIndex = new Int32Array(4096);
let featPos = new Int32Array(4096);
let featCount = 0;

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
 * Fills the feature buffers for `text` (the detector's view) and returns how many features it
 * wrote; read them with `featureIndex(i)` and `featurePosition(i)`. Linear in the text length
 * and allocation-free apart from buffer growth.
 */
export function collectFeatures(text: string): number {
  featCount = 0;
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
  for (let i = 0; i <= n; i++) {
    let c = i < n ? lower(text.charCodeAt(i)) : 32;
    if (isSpace(c)) c = 32;
    if (isWordChar(c)) {
      word = Math.imul(word ^ c, FNV_PRIME);
      const d = c < 128 ? DELEET[c]! : 0;
      if (d !== 0) hasLeet = true;
      else if (c >= 97) hasLetter = true;
      wordDeleet = Math.imul(wordDeleet ^ (d || c), FNV_PRIME);
      wordLen++;
    } else if (wordLen > 0) {
      const pos = i - 1;
      push(fmix(word), pos);
      const bigram = Math.imul(prevWord, 31) ^ word;
      push(fmix(bigram ^ SEED_BIGRAM), pos);
      push(fmix(Math.imul(prevWord2, 961) ^ bigram ^ SEED_TRIGRAM), pos);
      // Where imperatives sit: "send the…", "ignore all…", "please add…".
      if (clauseWord === 0) {
        push(fmix(word ^ SEED_CLAUSE), pos);
        clauseFirst = word;
      } else if (clauseWord === 1) push(fmix(Math.imul(clauseFirst, 31) ^ word ^ SEED_CLAUSE2), pos);
      if (hasLeet && hasLetter) push(fmix(wordDeleet), pos);
      prevWord2 = prevWord;
      prevWord = word;
      word = SEED_WORD;
      wordDeleet = SEED_DELEET;
      wordLen = 0;
      hasLeet = false;
      hasLetter = false;
      if (clauseWord < 2) clauseWord++;
    }
    if (isClauseEnd(c)) clauseWord = 0;
    if (i === n) break;
    if (c === 32 && c4 === 32) continue;
    seen++;
    if (seen >= 4) {
      let h = Math.imul(SEED_CHAR ^ c, FNV_PRIME);
      h = Math.imul(h ^ c4, FNV_PRIME);
      h = Math.imul(h ^ c3, FNV_PRIME);
      h = Math.imul(h ^ c2, FNV_PRIME);
      push(fmix(h), i);
    }
    c2 = c3;
    c3 = c4;
    c4 = c;
  }
  return featCount;
}

export const featureIndex = (i: number): number => featIndex[i]!;
export const featurePosition = (i: number): number => featPos[i]!;

/** How many windows a text of `length` view characters is scored in. */
export function windowCount(length: number): number {
  return length <= WINDOW ? 1 : Math.ceil((length - WINDOW) / STRIDE) + 1;
}

export interface ModelWeights {
  readonly weights: Float32Array;
  readonly bias: Readonly<Record<ModelKind, number>>;
}

export interface ModelScore {
  /** Probability that the strongest window is an injection. */
  readonly probability: number;
  /** View offsets of that window. */
  readonly start: number;
  readonly end: number;
}

let sums = new Float64Array(64);
let counts = new Int32Array(64);

/** Scores `text` (the detector's view) with `model`: the probability of its strongest window. */
export function scoreWithModel(text: string, kind: ModelKind, model: ModelWeights): ModelScore {
  const total = collectFeatures(text);
  const windows = windowCount(text.length);
  if (sums.length < windows) {
    sums = new Float64Array(windows * 2);
    counts = new Int32Array(windows * 2);
  }
  sums.fill(0, 0, windows);
  counts.fill(0, 0, windows);
  const w = model.weights;
  if (windows === 1) {
    // Most texts: one window, a plain sum.
    let sum = 0;
    for (let i = 0; i < total; i++) sum += w[featIndex[i]!]!;
    sums[0] = sum;
    counts[0] = total;
  } else {
    for (let i = 0; i < total; i++) {
      const weight = w[featIndex[i]!]!;
      const k = featPos[i]! >>> STRIDE_BITS;
      if (k < windows) {
        sums[k]! += weight;
        counts[k]!++;
      }
      if (k >= 1 && k - 1 < windows) {
        sums[k - 1]! += weight;
        counts[k - 1]!++;
      }
    }
  }
  let best = -Infinity;
  let bestWindow = 0;
  for (let k = 0; k < windows; k++) {
    const cnt = counts[k]!;
    if (cnt === 0) continue;
    const z = sums[k]! / Math.sqrt(cnt);
    if (z > best) {
      best = z;
      bestWindow = k;
    }
  }
  if (best === -Infinity) best = 0;
  const z = best + model.bias[kind];
  const start = windows === 1 ? 0 : bestWindow * STRIDE;
  const end = windows === 1 ? text.length : Math.min(text.length, start + WINDOW);
  return { probability: 1 / (1 + Math.exp(-z)), start, end };
}

let loaded: ModelWeights | undefined;

/** The committed model, decoded once on first use. */
export function committedModel(): ModelWeights {
  if (!loaded) {
    const raw = Buffer.from(MODEL.weights, 'base64');
    // Copied so the view is aligned whatever offset the decoder's buffer had.
    const q = new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    if (q.length !== DIMENSIONS)
      throw new Error(`injection model has ${q.length} weights, expected ${DIMENSIONS}`);
    const weights = new Float32Array(DIMENSIONS);
    for (let i = 0; i < DIMENSIONS; i++) weights[i] = q[i]! * MODEL.scale;
    loaded = { weights, bias: MODEL.bias };
  }
  return loaded;
}

/** Probability thresholds per kind at which the model alone makes a text suspicious. */
export const MODEL_THRESHOLDS: Readonly<Record<ModelKind, number>> = MODEL.thresholds;
