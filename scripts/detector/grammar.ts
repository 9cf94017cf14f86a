// A tiny template language for the detector's training corpus, with a deterministic random
// source. `[a|b|c]` picks one alternative (nesting allowed, `[a|]` may pick nothing), `{slot}`
// expands a named pool; a backslash makes the next character literal, and braces around anything
// that is not a pool name are literal too. Which alternatives a split may pick is partitioned (see `pick`), so the
// frozen split reads vocabulary the model never trained on.

export type Split = 'train' | 'validation' | 'frozen';

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Ctx {
  readonly split: Split;
  readonly rand: () => number;
  readonly slots: Readonly<Record<string, readonly string[]>>;
}

/**
 * One element of `options`, from the split's share: with four or more options, train only ever
 * sees indices 0–2 mod 4, frozen mostly (70%) index 3 mod 4, validation any. Short lists are
 * shared by every split.
 */
export function pick<T>(ctx: Ctx, options: readonly T[]): T {
  const n = options.length;
  if (n === 0) throw new Error('pick from an empty list');
  let pool: number[] | undefined;
  if (n >= 4 && ctx.split === 'train') pool = [...Array(n).keys()].filter((i) => i % 4 !== 3);
  else if (n >= 4 && ctx.split === 'frozen' && ctx.rand() < 0.7)
    pool = [...Array(n).keys()].filter((i) => i % 4 === 3);
  const idx = pool ? pool[Math.floor(ctx.rand() * pool.length)]! : Math.floor(ctx.rand() * n);
  return options[idx]!;
}

function splitTop(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      cur += ch + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    if (ch === '|' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

/** Expands a template once. */
export function expand(ctx: Ctx, template: string, depth = 0): string {
  if (depth > 12) throw new Error(`template recursion too deep: ${template.slice(0, 60)}`);
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch === '\\') {
      out += template[i + 1] ?? '';
      i++;
    } else if (ch === '[') {
      let d = 1;
      let j = i + 1;
      for (; j < template.length && d > 0; j++) {
        if (template[j] === '\\') j++;
        else if (template[j] === '[') d++;
        else if (template[j] === ']') d--;
      }
      const body = template.slice(i + 1, j - 1);
      out += expand(ctx, pick(ctx, splitTop(body)), depth + 1);
      i = j - 1;
    } else if (ch === '{') {
      const j = template.indexOf('}', i);
      const name = template.slice(i + 1, j);
      const pool = j > i ? ctx.slots[name] : undefined;
      if (pool) {
        out += expand(ctx, pick(ctx, pool), depth + 1);
        i = j;
      } else out += ch;
    } else out += ch;
  }
  return out;
}

/** Capitalises the first letter and tidies doubled spaces left by empty alternatives. */
export function tidy(s: string): string {
  const t = s
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/ ([,.!?;:])/g, '$1')
    .trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
}
