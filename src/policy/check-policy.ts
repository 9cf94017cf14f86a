import { globToRegExp } from '../glob/index.js';
import type { PolicyConfig } from './config.js';
import { compilePolicy, toolRuleFor, type PolicyTool } from './decide.js';

export interface PolicyFinding {
  readonly severity: 'error' | 'warning';
  readonly code:
    | 'unknown-tool'
    | 'unreachable-rule'
    | 'destructive-without-confirmation'
    | 'destructive-confirmed-in-band';
  /** Where in the configuration, e.g. `policy.tools.memory_*`. */
  readonly path: string;
  readonly message: string;
}

/**
 * Lints a policy against the tools it will meet (built-ins and pinned upstream tools). Pure:
 * the caller loads the tool list. Finds names and globs that match no tool, rules that can
 * never decide anything, scopes that grant a destructive tool without confirmation, and
 * destructive tools the operator let the client confirm in-band.
 */
export function checkPolicy(config: PolicyConfig, tools: readonly PolicyTool[]): PolicyFinding[] {
  const policy = compilePolicy(config);
  const findings: PolicyFinding[] = [];
  const matchesNone = (glob: string) => !tools.some((t) => globToRegExp(glob).test(t.name));
  const unknown = (path: string, glob: string) =>
    findings.push({
      severity: 'warning',
      code: 'unknown-tool',
      path,
      message: `${glob} matches no known tool (built-in or pinned upstream tool)`,
    });

  for (const [scope, globs] of Object.entries(config.scopes)) {
    for (const g of globs) if (matchesNone(g)) unknown(`policy.scopes.${scope}`, g);
  }
  for (const pattern of Object.keys(config.tools)) {
    if (matchesNone(pattern)) {
      unknown(`policy.tools.${pattern}`, pattern);
      continue;
    }
    // A rule is shadowed when every tool it matches is won by a more specific rule.
    const winsSome = tools.some((t) => toolRuleFor(policy, t.name)?.pattern === pattern);
    if (!winsSome) {
      findings.push({
        severity: 'warning',
        code: 'unreachable-rule',
        path: `policy.tools.${pattern}`,
        message: `every tool ${pattern} matches is decided by a more specific rule`,
      });
    }
  }
  config.flows.forEach((rule, i) => {
    for (const g of rule.allow) if (matchesNone(g)) unknown(`policy.flows[${i}].allow`, g);
    // An earlier deny rule on the same sink whose conditions are a subset of this rule's, with
    // no exemptions, always decides first: this rule can only add a reason, never an effect.
    const shadow = config.flows
      .slice(0, i)
      .find(
        (earlier) =>
          earlier.effect === 'deny' &&
          earlier.sink === rule.sink &&
          earlier.allow.length === 0 &&
          earlier.after.every((l) => rule.after.includes(l)),
      );
    if (shadow) {
      findings.push({
        severity: 'warning',
        code: 'unreachable-rule',
        path: `policy.flows[${i}]`,
        message: `${rule.name} never decides: ${shadow.name} denies every call it would match`,
      });
    }
  });

  for (const tool of tools) {
    const rule = toolRuleFor(policy, tool.name);
    const cls = rule?.rule.class ?? tool.class;
    if (cls !== 'destructive') continue;
    const confirms = rule?.rule.confirm ?? policy.confirmClasses.has(cls);
    if (confirms) {
      if (rule?.rule.approval === 'in-band') {
        findings.push({
          severity: 'warning',
          code: 'destructive-confirmed-in-band',
          path: `policy.tools.${rule.pattern}`,
          message: `${tool.name} is destructive and confirmed in-band: a client that answers elicitations by itself can approve it`,
        });
      }
      continue;
    }
    const grants = [
      tool.scope,
      ...policy.scopeGrants.filter((g) => g.tools.some((m) => m.test(tool.name))).map((g) => g.scope),
    ];
    findings.push({
      severity: 'error',
      code: 'destructive-without-confirmation',
      path: rule ? `policy.tools.${rule.pattern}` : 'policy.confirm.classes',
      message: `${tool.name} is destructive and runs without confirmation for scope(s) ${grants.join(', ')}`,
    });
  }
  return findings;
}
