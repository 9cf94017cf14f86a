import type { ToolClass, ToolLabel } from '../tools/types.js';

/**
 * The closed set of reasons a decision can carry. Stored verbatim in the audit log and counted
 * in metrics; adding one is a deliberate change.
 */
export type DecisionReason = 'scope-granted' | 'scope-missing';

export type Effect = 'allow' | 'deny' | 'confirm';

export interface DecisionInput {
  readonly scopes: ReadonlySet<string>;
  readonly tool: {
    readonly name: string;
    readonly scope: string;
    readonly class: ToolClass;
    readonly labels: readonly ToolLabel[];
  };
  readonly now: Date;
}

export interface Decision {
  readonly effect: Effect;
  readonly reasons: readonly DecisionReason[];
  /** What enforcement must do with the decision; `requiredScope` feeds the 403 challenge. */
  readonly obligations: { readonly requiredScope?: string };
}

/**
 * The policy decision point: pure, so every branch is testable with a frozen clock. Today it
 * maps scopes to tools; confirmation and tool-chain rules extend it without changing callers.
 */
export function decide(input: DecisionInput): Decision {
  if (!input.scopes.has(input.tool.scope)) {
    return { effect: 'deny', reasons: ['scope-missing'], obligations: { requiredScope: input.tool.scope } };
  }
  return { effect: 'allow', reasons: ['scope-granted'], obligations: {} };
}
