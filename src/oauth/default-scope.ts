import type { Tool } from '../tools/index.js';

/**
 * The default scope of an authorization request that names none. OAuth 2.1 §3.2.2.1 (RFC 6749
 * §3.3): the server MUST either use a documented default or fail with `invalid_scope`; it must
 * never answer with a silent denial. Portcullis's default is the least it can usefully offer:
 * the scopes of its own read-only tools that reach nothing outside the gateway (today
 * `memory:read`), within what the request may be given at all.
 */

/**
 * The scopes that qualify as a default: every tool carrying the scope is built in, classed
 * `read`, and neither reads from nor sends to the outside world. A scope an upstream tool also
 * carries never qualifies: the operator may have put a writing tool under it.
 */
export function defaultScopeCandidates(
  tools: readonly Pick<Tool, 'scope' | 'class' | 'labels' | 'upstream'>[],
): string[] {
  const verdict = new Map<string, boolean>();
  for (const tool of tools) {
    const harmless =
      tool.upstream === undefined &&
      tool.class === 'read' &&
      !tool.labels.includes('untrusted-source') &&
      !tool.labels.includes('external-sink');
    verdict.set(tool.scope, (verdict.get(tool.scope) ?? true) && harmless);
  }
  return [...verdict].filter(([, ok]) => ok).map(([scope]) => scope);
}

/**
 * The default scopes for one request: the candidates within `allowed` (the client's scopes for
 * the resource; a caller with a person's role ceiling passes that set too). Empty means there is
 * no default for this request, and it must be refused with `invalid_scope`.
 */
export function defaultScopes(candidates: readonly string[], allowed: Iterable<string>): string[] {
  const within = new Set(allowed);
  return candidates.filter((s) => within.has(s));
}
