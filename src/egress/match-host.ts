import ipaddr from 'ipaddr.js';

/** A compiled host allow-list: exact names, `*.suffix` wildcards, or `*` for any host. */
export interface HostPatterns {
  readonly any: boolean;
  matches(host: string): boolean;
}

/**
 * Canonical form for comparing hosts: lower case, one trailing dot dropped (`example.com.` is the
 * same name), IPv6 brackets removed and IP literals in their canonical text.
 */
export function normaliseHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return ipaddr.isValid(h) ? ipaddr.parse(h).toString() : h;
}

/**
 * `*.example.com` matches any name below example.com but not example.com itself, so an operator
 * lists both when both are meant. Throws on an entry that is neither a name nor a wildcard.
 */
export function compileHostPatterns(entries: readonly string[]): HostPatterns {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  let any = false;
  for (const entry of entries) {
    if (entry === '*') {
      any = true;
    } else if (entry.startsWith('*.') && entry.length > 2 && !entry.slice(2).includes('*')) {
      suffixes.push('.' + normaliseHost(entry.slice(2)));
    } else if (entry.length > 0 && !entry.includes('*') && !/[\s/@:?#]/.test(entry.replace(/^\[.*\]$/, ''))) {
      exact.add(normaliseHost(entry));
    } else {
      throw new Error(`invalid host pattern ${JSON.stringify(entry)}`);
    }
  }
  return {
    any,
    matches(host) {
      if (any) return true;
      const h = normaliseHost(host);
      return exact.has(h) || suffixes.some((s) => h.endsWith(s));
    },
  };
}
