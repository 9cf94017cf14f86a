import { compileGlobRules, mostSpecificRule } from '../glob/index.js';
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
 * `<upstream>:resources` or `<upstream>:prompts`, labelled untrusted-source.
 */
export function classifySurface(
  upstream: string,
  kind: 'resources' | 'prompts',
  key: string,
  rules: Readonly<Record<string, SurfaceRule>>,
): SurfaceClassification {
  const match = mostSpecificRule(compileGlobRules(rules), key)?.rule;
  return { scope: match?.scope ?? `${upstream}:${kind}`, labels: match?.labels ?? DEFAULT_LABELS };
}
