import { splitResourceUri, type PromptEntry, type UpstreamSurface } from './surface.js';
import type { ObjectJsonSchema, Tool } from './types.js';

/** A tool as tools/list shows it, computed once when the catalogue changes, not per request. */
export interface ListedTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: ObjectJsonSchema;
  readonly outputSchema?: ObjectJsonSchema;
  readonly annotations: Record<string, unknown>;
}

export interface CatalogueEntry {
  readonly tool: Tool;
  readonly listed: ListedTool;
}

/**
 * Every callable tool: the built-ins, plus each upstream's approved tools, which the upstream
 * manager replaces at run time (a pin approved, a server restarted) without a gateway restart.
 */
export interface Catalogue {
  get(name: string): Tool | undefined;
  /** Every tool, in a stable order (built-ins first, then upstreams by name). */
  entries(): readonly CatalogueEntry[];
  /**
   * Replaces the tools served for one upstream; an empty list withdraws them all. `namespace` is
   * the prefix its names carry (default: the upstream's name; `''`: served unchanged).
   */
  setUpstreamTools(upstream: string, tools: readonly Tool[], namespace?: string): void;
  /** Every upstream's surface beyond tools, by upstream name (surface.ts). */
  surfaces(): readonly UpstreamSurface[];
  surface(upstream: string): UpstreamSurface | undefined;
  /** A prompt by its namespaced name. */
  prompt(name: string): PromptEntry | undefined;
  /**
   * The surface that owns a gateway resource URI (or uriTemplate), and that upstream's own URI:
   * `portcullis://<upstream>/…`, or any other URI when one upstream is served unprefixed.
   */
  resourceOwner(uri: string): { readonly surface: UpstreamSurface; readonly uri: string } | undefined;
  /** Replaces one upstream's surface; undefined withdraws it. */
  setUpstreamSurface(upstream: string, surface: UpstreamSurface | undefined): void;
}

/** MCP tool annotations derived from the operator's classification (hints to clients only). */
function annotationsFor(tool: Tool): Record<string, unknown> {
  return {
    title: tool.title,
    readOnlyHint: tool.class === 'read',
    destructiveHint: tool.class === 'destructive',
    idempotentHint: tool.class === 'read',
    openWorldHint: tool.labels.includes('untrusted-source') || tool.labels.includes('external-sink'),
  };
}

function listedTool(tool: Tool): ListedTool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
    annotations: annotationsFor(tool),
  };
}

export function createCatalogue(builtIns: readonly Tool[]): Catalogue {
  const upstreams = new Map<string, readonly Tool[]>();
  let byName = new Map<string, CatalogueEntry>();
  let ordered: CatalogueEntry[] = [];

  const surfaces = new Map<string, UpstreamSurface>();
  let orderedSurfaces: UpstreamSurface[] = [];
  let prompts = new Map<string, PromptEntry>();

  const rebuild = () => {
    const all = [...builtIns, ...[...upstreams.keys()].sort().flatMap((u) => upstreams.get(u)!)];
    const next = new Map<string, CatalogueEntry>();
    for (const tool of all) {
      if (next.has(tool.name)) throw new Error(`duplicate tool name ${tool.name}`);
      next.set(tool.name, { tool, listed: listedTool(tool) });
    }
    byName = next;
    ordered = [...next.values()];
  };
  rebuild();

  return {
    get: (name) => byName.get(name)?.tool,
    entries: () => ordered,
    setUpstreamTools(upstream, tools, namespace = upstream) {
      for (const t of tools) {
        if (t.upstream !== upstream || (namespace !== '' && !t.name.startsWith(`${namespace}__`))) {
          throw new Error(`tool ${t.name} does not belong to upstream ${upstream}`);
        }
      }
      if (tools.length === 0) upstreams.delete(upstream);
      else upstreams.set(upstream, tools);
      rebuild();
    },
    surfaces: () => orderedSurfaces,
    surface: (upstream) => surfaces.get(upstream),
    prompt: (name) => prompts.get(name),
    resourceOwner(uri) {
      const unprefixed = orderedSurfaces.find((s) => s.namespace === '')?.upstream;
      const split = splitResourceUri(uri, unprefixed);
      const surface = split && surfaces.get(split.upstream);
      return surface && split ? { surface, uri: split.uri } : undefined;
    },
    setUpstreamSurface(upstream, surface) {
      if (surface) {
        if (surface.upstream !== upstream)
          throw new Error(`surface of ${surface.upstream} set for ${upstream}`);
        const ns = surface.namespace ?? upstream;
        if (ns !== '' && ns !== upstream)
          throw new Error(`namespace of ${upstream} must be its name or empty`);
        for (const p of surface.prompts) {
          if ((ns !== '' && !p.listed.name.startsWith(`${ns}__`)) || p.op.upstream !== upstream)
            throw new Error(`prompt ${p.listed.name} does not belong to upstream ${upstream}`);
        }
        surfaces.set(upstream, surface);
      } else surfaces.delete(upstream);
      orderedSurfaces = [...surfaces.keys()].sort().map((u) => surfaces.get(u)!);
      prompts = new Map(orderedSurfaces.flatMap((s) => s.prompts.map((p) => [p.listed.name, p] as const)));
    },
  };
}
