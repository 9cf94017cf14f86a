import { z } from 'zod';

/**
 * The policy, mounted as `policy:` in portcullis.yaml so it is reviewed, versioned and validated
 * with the rest of the configuration (every error names its path) and documented by the same
 * generator. docs/policy.md explains it with examples; `portcullis policy check` lints it and
 * `portcullis policy explain` shows what it decides for one call.
 */

const toolClass = z.enum(['read', 'write', 'destructive']);
const toolLabel = z.enum(['private-data', 'untrusted-source', 'external-sink']);
const kebab = z
  .string()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, { message: 'must be kebab-case (e.g. untrusted-to-sink)' });
const scopeName = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,100}$/, { message: 'must be a scope name (letters, digits, _ . : -)' });
const scopePattern = z.string().regex(/^[A-Za-z0-9_.:*-]{1,100}$/, {
  message: 'must be a scope name or glob (letters, digits, _ . : - and `*`)',
});
const toolGlob = z
  .string()
  .regex(/^[A-Za-z0-9_*.-]{1,200}$/, { message: 'must be a tool name or glob (`*` wildcard)' });

const toolRuleSchema = z
  .strictObject({
    class: toolClass
      .optional()
      .describe('Overrides the tool class (read, write, destructive) the built-in or upstream rule gave it.'),
    labels: z
      .array(toolLabel)
      .optional()
      .describe('Replaces the data labels (private-data, untrusted-source, external-sink).'),
    confirm: z
      .boolean()
      .optional()
      .describe(
        'true: every call needs a person to confirm it; false: never, even for a class in ' +
          '`confirm.classes` (policy check warns about destructive tools without confirmation).',
      ),
    approval: z
      .enum(['in-band', 'out-of-band'])
      .optional()
      .describe(
        'How confirmation is asked. out-of-band (the default): on the approval page ' +
          '/approvals/<id>, where the person signs in; the client is given the link (URL-mode ' +
          'elicitation when it supports it). in-band, an opt-in: a form elicitation the client ' +
          'answers (its software can answer for the person), never for client-credentials ' +
          'callers, and only when the whole call fits in the message; else the page.',
      ),
  })
  .describe('Overrides for the tools a name or glob matches.');

const flowRuleSchema = z
  .strictObject({
    name: kebab.describe('The rule name; decisions it makes carry the reason `taint-<name>`.'),
    after: z
      .array(toolLabel)
      .min(1)
      .describe('Labels the session must have taken in (all of them) for the rule to apply.'),
    sink: toolLabel.describe('The label of the tool being called that the rule guards.'),
    effect: z.enum(['confirm', 'deny']).describe('What the call needs: a person to confirm, or refusal.'),
    allow: z
      .array(toolGlob)
      .default([])
      .describe('Tools (names or globs) this rule explicitly lets through (reason `policy-allow-rule`).'),
  })
  .describe('A tool-chain (taint) rule.');

const DEFAULT_FLOWS = [
  {
    name: 'lethal-trifecta',
    after: ['private-data', 'untrusted-source'],
    sink: 'external-sink',
    effect: 'deny',
    allow: [],
  },
  {
    name: 'untrusted-to-sink',
    after: ['untrusted-source'],
    sink: 'external-sink',
    effect: 'confirm',
    allow: [],
  },
] as const satisfies readonly z.input<typeof flowRuleSchema>[];

const confirmSchema = z
  .strictObject({
    classes: z
      .array(toolClass)
      .default(['destructive'])
      .describe('Tool classes whose every call a person must confirm.'),
    inBandTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(300)
      .describe(
        'How long an in-band confirmation (elicitation, or its signed request state) stays valid; ' +
          'each can be answered once.',
      ),
    approvalTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(600)
      .describe('How long a pending call waits on the approval page before it expires.'),
    approvalWaitSeconds: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(50)
      .describe(
        'How long a call whose client showed the approval link (URL-mode elicitation) is held ' +
          'open for the person to decide before the client is asked to try again. Under the ' +
          "60-second request timeout of the MCP SDKs' clients.",
      ),
  })
  .describe('Human confirmation.');

const taintSchema = z
  .strictObject({
    windowSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(1800)
      .describe(
        'How long a label a person took in counts (sliding: each new call carrying the label ' +
          'restarts it). Labels belong to the person (the subject, whatever tenant a credential names) across all their sessions, ' +
          'keys and tokens, and are kept in storage, so a restart does not clear them.',
      ),
  })
  .describe('Taint tracking.');

export const policyConfigSchema = z
  .strictObject({
    roles: z
      .record(kebab, z.array(scopePattern))
      .default({})
      .describe(
        "Named sets of scopes (names or globs, `*` = any characters). A person's role is the ceiling of " +
          'every token and API key they hold; a credential holding `role:<name>` holds the scopes too. ' +
          'Built in unless redefined here: `admin` = `*` (everything), `member` = the built-in tools and ' +
          'every upstream `:read`/`:write` scope. A glob reaches `admin:` scopes only as `*` or `admin:…`. ' +
          'See docs/policy.md#roles.',
      ),
    scopes: z
      .record(scopeName, z.array(toolGlob))
      .default({})
      .describe(
        'Extra grants: a scope to the tools (names or globs over built-in and `server__tool` names) it ' +
          "lets a caller use, besides each tool's own scope.",
      ),
    tools: z
      .record(toolGlob, toolRuleSchema)
      .default({})
      .describe(
        'Per-tool overrides of class, labels and confirmation; an exact name first, else the glob with ' +
          'the most literal characters. Per-tool rate limits live in `rateLimits.tools`.',
      ),
    confirm: confirmSchema.prefault({}),
    flows: z
      .array(flowRuleSchema)
      .default(DEFAULT_FLOWS.map((f) => ({ ...f, after: [...f.after], allow: [...f.allow] })))
      .describe(
        'Tool-chain rules, enforced whatever the client does. Default: after untrusted content an ' +
          'external-sink call needs confirmation (untrusted-to-sink); with private data and untrusted ' +
          'content it is refused (lethal-trifecta). Deny wins over confirm.',
      ),
    taint: taintSchema.prefault({}),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.flows.forEach((f, i) => {
      if (seen.has(f.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['flows', i, 'name'],
          message: `duplicate rule name ${f.name}`,
        });
      }
      seen.add(f.name);
    });
    for (const [role, scopes] of Object.entries(p.roles)) {
      scopes.forEach((s, i) => {
        if (s.startsWith('role:')) {
          ctx.addIssue({ code: 'custom', path: ['roles', role, i], message: 'roles cannot contain roles' });
        }
      });
    }
  })
  .describe(
    'The policy: roles, scopes to tools, tool overrides, confirmation and tool-chain (taint) rules. ' +
      'See docs/policy.md.',
  );

export type PolicyConfig = z.output<typeof policyConfigSchema>;
export type FlowRule = PolicyConfig['flows'][number];

/** The policy's durations, in the milliseconds its consumers count in. */
export function policyTimings(config: PolicyConfig): {
  readonly taintWindowMs: number;
  readonly inBandTtlMs: number;
  readonly approvalTtlMs: number;
  readonly approvalWaitMs: number;
} {
  return {
    taintWindowMs: config.taint.windowSeconds * 1000,
    inBandTtlMs: config.confirm.inBandTtlSeconds * 1000,
    approvalTtlMs: config.confirm.approvalTtlSeconds * 1000,
    approvalWaitMs: config.confirm.approvalWaitSeconds * 1000,
  };
}
