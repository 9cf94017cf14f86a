import { compileGlobRules, globToRegExp, mostSpecificRule, type GlobRule } from '../glob/index.js';
import type { ToolClass, ToolLabel } from '../tools/index.js';
import type { FlowRule, PolicyConfig } from './config.js';
import { compileRoles, type ScopeCeiling } from './roles.js';

/**
 * The closed set of reasons a decision (and the confirmation stage that enforces it) can carry.
 * Stored verbatim in the audit log and counted in metrics; adding one is a deliberate change.
 * `taint-<rule>` names the tool-chain rule that decided (rule names are the operator's, checked
 * kebab-case in the configuration; the defaults are `taint-untrusted-to-sink` and
 * `taint-lethal-trifecta`).
 */
export type DecisionReason =
  | 'scope-granted'
  | 'scope-missing'
  | 'pin-not-approved'
  | 'confirmation-required'
  | 'confirmation-accepted'
  | 'confirmation-declined'
  | 'confirmation-expired'
  | 'confirmation-replayed'
  | 'confirmation-mismatch'
  | 'confirmation-invalid'
  | 'confirmation-pending'
  | 'policy-allow-rule'
  | `taint-${string}`;

export type Effect = 'allow' | 'deny' | 'confirm';
export type ApprovalChannel = 'in-band' | 'out-of-band';

/** The policy, compiled once from its configuration (globs to matchers). */
export interface Policy {
  /** The built-in roles with the operator's laid over them (see roles.ts). */
  readonly roles: ReadonlyMap<string, ScopeCeiling>;
  readonly scopeGrants: readonly { readonly scope: string; readonly tools: readonly RegExp[] }[];
  readonly toolRules: readonly GlobRule<PolicyConfig['tools'][string]>[];
  readonly confirmClasses: ReadonlySet<ToolClass>;
  readonly flows: readonly (FlowRule & { readonly allowMatch: readonly RegExp[] })[];
}

export function compilePolicy(config: PolicyConfig): Policy {
  return {
    roles: compileRoles(config.roles),
    scopeGrants: Object.entries(config.scopes).map(([scope, tools]) => ({
      scope,
      tools: tools.map(globToRegExp),
    })),
    // An exact name outranks every glob; among globs, the most literal characters win.
    toolRules: compileGlobRules(config.tools),
    confirmClasses: new Set(config.confirm.classes),
    flows: config.flows.map((f) => ({ ...f, allowMatch: f.allow.map(globToRegExp) })),
  };
}

/** A tool as the policy sees it: its catalogue classification, before the policy's overrides. */
export interface PolicyTool {
  readonly name: string;
  readonly scope: string;
  readonly class: ToolClass;
  readonly labels: readonly ToolLabel[];
  readonly upstream?: string;
}

export interface DecisionInput {
  readonly policy: Policy;
  /** The scopes the credential carries (roles are expanded here, not by the caller). */
  readonly scopes: ReadonlySet<string>;
  readonly tool: PolicyTool;
  /** Labels the person's context has taken in (over the taint window, across sessions and keys). */
  readonly taint: ReadonlySet<ToolLabel>;
  /**
   * Pin state of the tool's definition. Upstream tools that are not approved never reach the
   * catalogue, so the pipeline passes `approved` (or `built-in`); the check is the backstop.
   */
  readonly pinState: 'built-in' | 'approved' | 'pending' | 'changed' | 'rejected';
  /**
   * Whom the caller acts for: a person (API key owner, OAuth user), or only its own client
   * software (client credentials), which has nobody to ask in-band.
   */
  readonly actsFor: 'person' | 'client';
  readonly now: Date;
}

export interface Decision {
  readonly effect: Effect;
  readonly reasons: readonly DecisionReason[];
  readonly obligations: {
    /** The scope a denial names in its 403 challenge (only for scope denials). */
    readonly requiredScope?: string;
    /**
     * For `confirm`: how the person is asked. `out-of-band` unless the tool rule opts in to
     * `in-band` and the caller acts for a person: an in-band answer comes from the client's
     * software, which can give it without the person.
     */
    readonly approval?: ApprovalChannel;
  };
  /** The tool's class and labels after the policy's overrides: what the decision was made on. */
  readonly classification: { readonly class: ToolClass; readonly labels: readonly ToolLabel[] };
  /** The tool rule (pattern) and flow rules that applied, for `policy explain`. */
  readonly matched: { readonly toolRule?: string; readonly flows: readonly string[] };
}

/** The scopes a credential holds once `role:<name>` scopes are expanded (globs kept as written). */
export function expandRoles(policy: Policy, scopes: ReadonlySet<string>): Set<string> {
  const out = new Set(scopes);
  for (const s of scopes) {
    if (!s.startsWith('role:')) continue;
    for (const granted of policy.roles.get(s.slice(5))?.entries ?? []) out.add(granted);
  }
  return out;
}

/** Whether the credential holds a scope: by name, or through a `role:<name>` it holds. */
function holder(policy: Policy, scopes: ReadonlySet<string>): (scope: string) => boolean {
  const bundles = [...scopes].flatMap((s) => {
    const role = s.startsWith('role:') ? policy.roles.get(s.slice(5)) : undefined;
    return role ? [role] : [];
  });
  return (scope) => scopes.has(scope) || bundles.some((r) => r.allows(scope));
}

export function toolRuleFor(policy: Policy, name: string): Policy['toolRules'][number] | undefined {
  return mostSpecificRule(policy.toolRules, name);
}

/** A tool's class and labels once the operator's tool rule is laid over the catalogue's. */
export function classifyTool(
  policy: Policy,
  tool: PolicyTool,
): { readonly class: ToolClass; readonly labels: readonly ToolLabel[] } {
  const rule = toolRuleFor(policy, tool.name)?.rule;
  return { class: rule?.class ?? tool.class, labels: rule?.labels ?? tool.labels };
}

/**
 * Whether every call of the tool waits for its person (the rule of `decide`'s step 4, without
 * the caller): its class is in `confirm.classes` or its rule says `confirm: true`, unless the
 * rule says `confirm: false`. Tool-chain rules can add a confirmation for one person's context.
 */
export function confirmsAlways(policy: Policy, tool: PolicyTool): boolean {
  const byRule = toolRuleFor(policy, tool.name)?.rule.confirm;
  return (
    byRule === true || (byRule === undefined && policy.confirmClasses.has(classifyTool(policy, tool).class))
  );
}

/** Whether the scopes let the caller use the tool: its own scope, or a policy grant. */
function holdsScope(policy: Policy, scopes: ReadonlySet<string>, tool: PolicyTool): boolean {
  const holds = holder(policy, scopes);
  if (holds(tool.scope)) return true;
  return policy.scopeGrants.some((g) => holds(g.scope) && g.tools.some((m) => m.test(tool.name)));
}

/**
 * The policy decision point. Pure: everything it needs is in the input, so every branch is
 * testable with a frozen clock. Precedence, first match wins:
 *
 *   1. pin state not approved        → deny  (pin-not-approved)
 *   2. no scope for the tool         → deny  (scope-missing; the 403 names the scope)
 *   3. tool-chain rules, in order    → deny beats confirm (taint-<rule>); a rule's `allow`
 *                                       list exempts a tool (policy-allow-rule)
 *   4. confirmation rules            → confirm (confirmation-required): the class is in
 *                                       confirm.classes, or the tool rule says confirm: true,
 *                                       unless it says confirm: false; asked out of band unless
 *                                       the rule says approval: in-band and a person calls
 *   5. otherwise                     → allow (scope-granted)
 */
export function decide(input: DecisionInput): Decision {
  const { policy, tool } = input;
  const toolRule = toolRuleFor(policy, tool.name);
  const classification = classifyTool(policy, tool);
  const base = {
    classification,
    matched: { ...(toolRule ? { toolRule: toolRule.pattern } : {}), flows: [] },
  };

  if (input.pinState !== 'built-in' && input.pinState !== 'approved') {
    return { ...base, effect: 'deny', reasons: ['pin-not-approved'], obligations: {} };
  }
  if (!holdsScope(policy, input.scopes, tool)) {
    return {
      ...base,
      effect: 'deny',
      reasons: ['scope-missing'],
      obligations: { requiredScope: tool.scope },
    };
  }

  const reasons: DecisionReason[] = ['scope-granted'];
  const flows: string[] = [];
  let effect: Effect = 'allow';
  for (const rule of policy.flows) {
    if (!classification.labels.includes(rule.sink)) continue;
    if (!rule.after.every((label) => input.taint.has(label))) continue;
    if (rule.allowMatch.some((m) => m.test(tool.name))) {
      if (!reasons.includes('policy-allow-rule')) reasons.push('policy-allow-rule');
      flows.push(`${rule.name} (allowed)`);
      continue;
    }
    reasons.push(`taint-${rule.name}`);
    flows.push(rule.name);
    if (rule.effect === 'deny') effect = 'deny';
    else if (effect === 'allow') effect = 'confirm';
  }
  const matched = { ...base.matched, flows };
  if (effect === 'deny') return { classification, matched, effect, reasons, obligations: {} };

  if (confirmsAlways(policy, tool)) {
    reasons.push('confirmation-required');
    effect = 'confirm';
  }
  if (effect === 'confirm') {
    return {
      classification,
      matched,
      effect,
      reasons,
      obligations: {
        approval:
          toolRule?.rule.approval === 'in-band' && input.actsFor === 'person' ? 'in-band' : 'out-of-band',
      },
    };
  }
  return { classification, matched, effect, reasons, obligations: {} };
}
