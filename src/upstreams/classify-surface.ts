import { compileGlobRules, mostSpecificRule } from '../glob/index.js';
import { canonicalResourceUri } from './canonical-uri.js';
import type { ToolLabel } from '../tools/index.js';
import type { SurfaceRule } from './config.js';

/** What a prompt or resource brings in is the upstream's text: untrusted, and it taints the caller. */
const DEFAULT_LABELS: readonly ToolLabel[] = ['untrusted-source'];

export interface SurfaceClassification {
  readonly scope: string;
  readonly labels: readonly ToolLabel[];
}

/**
 * The scope and labels of an upstream's resource (by its own URI or uriTemplate) or prompt (by
 * its own name), from the operator's rules: the most specific match, as for tools. Unmatched:
 * `<upstream>:resources` or `<upstream>:prompts`, labelled untrusted-source. A resource URI and
 * the rules' patterns are compared in their canonical form (canonical-uri.ts), so respelling a URI
 * the server resolves to the same resource cannot pick another rule.
 */
export function classifySurface(
  upstream: string,
  kind: 'resources' | 'prompts',
  key: string,
  rules: Readonly<Record<string, SurfaceRule>>,
): SurfaceClassification {
  const match =
    kind === 'resources'
      ? mostSpecificRule(compileGlobRules(canonicalKeys(rules)), canonicalResourceUri(key))?.rule
      : mostSpecificRule(compileGlobRules(rules), key)?.rule;
  return { scope: match?.scope ?? `${upstream}:${kind}`, labels: match?.labels ?? DEFAULT_LABELS };
}

/** The rules keyed by their canonical pattern, in their order (the first of two that coincide wins). */
function canonicalKeys<T>(rules: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [pattern, rule] of Object.entries(rules)) {
    const key = canonicalResourceUri(pattern);
    if (!Object.hasOwn(out, key)) out[key] = rule;
  }
  return out;
}
