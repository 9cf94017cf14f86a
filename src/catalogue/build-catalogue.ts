import { classifyTool, confirmsAlways, type Policy } from '../policy/index.js';
import type { Catalogue, Tool } from '../tools/index.js';

/** One thing the gateway serves, as a reviewer reads it. */
export interface CatalogueItem {
  readonly kind: 'tool' | 'prompt' | 'resource-template' | 'resources';
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  /** Built in, or the upstream server it comes from. */
  readonly server: string;
  readonly scope: string;
  readonly class?: string;
  readonly labels: readonly string[];
  /** `always`: every call waits for its person; `after`: only after the named tool-chain rules fire. */
  readonly confirmation: 'always' | 'never' | { readonly after: readonly string[] };
}

export interface CatalogueDocument {
  readonly generatedAt: string;
  readonly items: readonly CatalogueItem[];
  /** Where a person sees and revokes the apps that act for them. */
  readonly revokeAccess: string;
  /** RFC 9116 contacts (securityTxt.contact); empty when none is configured. */
  readonly securityContact: readonly string[];
}

function confirmation(policy: Policy, tool: Tool): CatalogueItem['confirmation'] {
  if (confirmsAlways(policy, tool)) return 'always';
  const labels = classifyTool(policy, tool).labels;
  const flows = policy.flows.filter(
    (f) => labels.includes(f.sink) && !f.allowMatch.some((m) => m.test(tool.name)),
  );
  return flows.length ? { after: flows.map((f) => f.name) } : 'never';
}

function ofTool(policy: Policy, tool: Tool, kind: 'tool' | 'prompt'): CatalogueItem {
  const c = classifyTool(policy, tool);
  return {
    kind,
    name: tool.name,
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description,
    server: tool.upstream ?? 'built-in',
    scope: tool.scope,
    class: c.class,
    labels: c.labels,
    confirmation: confirmation(policy, tool),
  };
}

/**
 * Everything the gateway serves right now, with the policy's view of each: the operator's class
 * and labels (never the upstream's say-so), the scope, and when it needs confirmation. Pure: the
 * catalogue and the compiled policy are read, nothing is called.
 */
export function buildCatalogue(
  catalogue: Catalogue,
  policy: Policy,
  opts: { publicUrl: URL; securityContact: readonly string[]; now: Date },
): CatalogueDocument {
  const items: CatalogueItem[] = catalogue.entries().map((e) => ofTool(policy, e.tool, 'tool'));
  for (const s of catalogue.surfaces()) {
    for (const p of s.prompts) {
      items.push({
        ...ofTool(policy, p.op, 'prompt'),
        name: p.listed.name,
        description: p.listed.description ?? '',
      });
    }
    for (const r of s.resourceTemplates) {
      items.push({
        kind: 'resource-template',
        name: r.listed.uriTemplate,
        ...(r.listed.title ? { title: r.listed.title } : {}),
        description: r.listed.description ?? r.listed.name,
        server: s.upstream,
        scope: r.scope,
        labels: [],
        confirmation: 'never',
      });
    }
    if (s.resources) {
      items.push({
        kind: 'resources',
        name: s.namespace === '' ? '(unprefixed)' : `portcullis://${s.upstream}/…`,
        description: `The resources ${s.upstream} lists (live; each read is scoped and audited like a tool call).`,
        server: s.upstream,
        scope: `per URI (upstreams.${s.upstream}.resources)`,
        labels: ['untrusted-source'],
        confirmation: 'never',
      });
    }
  }
  return {
    generatedAt: opts.now.toISOString(),
    items,
    revokeAccess: new URL('/account', opts.publicUrl).href,
    securityContact: opts.securityContact,
  };
}
