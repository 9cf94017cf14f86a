/**
 * Tool-name globs, the one pattern language of the configuration: `*` matches any run of
 * characters (including none); every other character is literal. Policy scopes and tool rules,
 * upstream classification rules, rate-limit tiers and output rules all match names with it.
 */

/** The anchored expression for a glob: `*` matches any run of characters; the rest is literal. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** A rule keyed by a glob, compiled once. */
export interface GlobRule<T> {
  readonly pattern: string;
  readonly match: RegExp;
  /** How specific the pattern is: an exact name outranks every glob, then the most literal characters. */
  readonly literal: number;
  readonly rule: T;
}

/** Compiles a table of rules keyed by glob (in the table's order). */
export function compileGlobRules<T>(rules: Readonly<Record<string, T>>): GlobRule<T>[] {
  return Object.entries(rules).map(([pattern, rule]) => ({
    pattern,
    match: globToRegExp(pattern),
    literal: pattern.includes('*') ? pattern.replace(/\*/g, '').length : Number.MAX_SAFE_INTEGER,
    rule,
  }));
}

/**
 * The rule for a name: an exact name first, then the glob with the most literal characters; on a
 * tie, the one listed first. `undefined` when no rule matches.
 */
export function mostSpecificRule<T>(rules: readonly GlobRule<T>[], name: string): GlobRule<T> | undefined {
  let best: GlobRule<T> | undefined;
  for (const r of rules) {
    if (r.match.test(name) && (!best || r.literal > best.literal)) best = r;
  }
  return best;
}
