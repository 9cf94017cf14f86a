import { z } from 'zod';
import type { Principal } from '../auth/index.js';
import type { AnyToolDefinition } from './types.js';

/** A JSON Schema whose root is an object, as MCP requires for tool schemas. */
export interface ObjectJsonSchema {
  readonly type: 'object';
  readonly [key: string]: unknown;
}

/** A tool as tools/list shows it, computed once per catalogue rather than per request. */
export interface ListedTool {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: ObjectJsonSchema;
  readonly outputSchema: ObjectJsonSchema;
  readonly annotations: Record<string, unknown>;
}

export interface Catalogue {
  get(name: string): AnyToolDefinition | undefined;
  /** The tools this principal may call, in a stable order. */
  listFor(principal: Principal): ListedTool[];
}

function toJsonSchema(schema: z.ZodType): ObjectJsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  if (json.type !== 'object') throw new Error('tool schemas must describe an object');
  return json as ObjectJsonSchema;
}

/** MCP tool annotations derived from the operator's classification (hints to clients only). */
function annotationsFor(tool: AnyToolDefinition): Record<string, unknown> {
  return {
    title: tool.title,
    readOnlyHint: tool.class === 'read',
    destructiveHint: tool.class === 'destructive',
    idempotentHint: tool.class === 'read',
    openWorldHint: tool.labels.includes('untrusted-source') || tool.labels.includes('external-sink'),
  };
}

export function createCatalogue(tools: readonly AnyToolDefinition[]): Catalogue {
  const byName = new Map<string, AnyToolDefinition>();
  for (const t of tools) {
    if (byName.has(t.name)) throw new Error(`duplicate tool name ${t.name}`);
    byName.set(t.name, t);
  }
  const listed = new Map<string, ListedTool>(
    tools.map((t) => [
      t.name,
      {
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: toJsonSchema(t.input),
        outputSchema: toJsonSchema(t.output),
        annotations: annotationsFor(t),
      },
    ]),
  );
  return {
    get: (name) => byName.get(name),
    listFor: (principal) =>
      tools.filter((t) => principal.scopes.has(t.scope)).map((t) => listed.get(t.name)!),
  };
}
