import type { ObjectJsonSchema, Tool } from './types.js';

/** A tool as tools/list shows it, computed once per catalogue rather than per request. */
export interface ListedTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: ObjectJsonSchema;
  readonly outputSchema?: ObjectJsonSchema;
  readonly annotations: Record<string, unknown>;
}

export interface Catalogue {
  get(name: string): Tool | undefined;
  /** Every tool, in a stable order, with its tools/list entry. */
  entries(): readonly { readonly tool: Tool; readonly listed: ListedTool }[];
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

export function listedTool(tool: Tool): ListedTool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
    annotations: annotationsFor(tool),
  };
}

export function createCatalogue(tools: readonly Tool[]): Catalogue {
  const byName = new Map<string, Tool>();
  for (const t of tools) {
    if (byName.has(t.name)) throw new Error(`duplicate tool name ${t.name}`);
    byName.set(t.name, t);
  }
  const entries = tools.map((tool) => ({ tool, listed: listedTool(tool) }));
  return { get: (name) => byName.get(name), entries: () => entries };
}
