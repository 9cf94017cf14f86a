import { compileGlobRules, mostSpecificRule } from '../glob/index.js';
import type { ToolClass, ToolLabel } from '../tools/index.js';
import type { ToolRule } from './config.js';

export interface Classification {
  readonly class: ToolClass;
  readonly labels: readonly ToolLabel[];
  readonly scope: string;
  /** The rule that matched (`undefined`: none, so the conservative default applied). */
  readonly rule: string | undefined;
  /** The upstream's annotations claimed more harm than the rule; the class was raised to match. */
  readonly raisedByAnnotation: boolean;
  /** The operator's words for the approval page (the matched rule's `approvalText`). */
  readonly approvalText?: string;
}

const RANK: Record<ToolClass, number> = { read: 0, write: 1, destructive: 2 };

/** The labels of a tool no rule classifies: it may bring untrusted text in and send data out. */
const UNCLASSIFIED_LABELS: readonly ToolLabel[] = ['untrusted-source', 'external-sink'];

/** The rule for a tool name: an exact name first, then the pattern with the most literal characters. */
function matchRule(
  name: string,
  rules: Readonly<Record<string, ToolRule>>,
): { pattern: string; rule: ToolRule } | undefined {
  const best = mostSpecificRule(compileGlobRules(rules), name);
  return best && { pattern: best.pattern, rule: best.rule };
}

/**
 * Classifies an upstream tool from the operator's rules. The upstream's annotations are hints a
 * malicious server can lie about, so they never lower a class; an explicit `destructiveHint:
 * true` (without `readOnlyHint: true`) raises it to destructive, since a server admitting harm
 * is believed. Unmatched tools are write + untrusted-source + external-sink (DESIGN.md:
 * conservative defaults): until the operator says otherwise, a tool the gateway knows nothing
 * about may send what it is given anywhere, so the tool-chain rules guard it like any sink.
 */
export function classifyTool(
  upstream: string,
  name: string,
  rules: Readonly<Record<string, ToolRule>>,
  annotations: Readonly<Record<string, unknown>> | undefined,
): Classification {
  const match = matchRule(name, rules);
  const configured: ToolClass = match?.rule.class ?? 'write';
  const labels: readonly ToolLabel[] = match ? match.rule.labels : UNCLASSIFIED_LABELS;
  const admitsHarm = annotations?.destructiveHint === true && annotations.readOnlyHint !== true;
  const cls: ToolClass = admitsHarm && RANK[configured] < RANK.destructive ? 'destructive' : configured;
  return {
    class: cls,
    labels,
    scope: match?.rule.scope ?? `${upstream}:${cls}`,
    rule: match?.pattern,
    raisedByAnnotation: cls !== configured,
    ...(match?.rule.approvalText !== undefined ? { approvalText: match.rule.approvalText } : {}),
  };
}
