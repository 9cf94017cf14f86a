import type { ObjectJsonSchema, PromptEntry, SchemaIssue, ToolContext, ToolOutput } from '../tools/index.js';
import { ToolInputError } from '../tools/index.js';
import { capOutput } from './build-tool.js';
import type { SurfaceClassification } from './classify-surface.js';
import type { PromptDefinition } from './mcp-client.js';
import { isObject, parseContentBlock, servedName, type Namespace } from './parse-content.js';

/** Sends one request to the upstream on a caller's behalf (UpstreamSupervisor.request). */
export type RequestUpstream = (
  method: string,
  params: Record<string, unknown>,
  ctx: ToolContext,
) => Promise<unknown>;

/** A prompt's arguments as MCP defines them: an object of strings, declared names only, required ones present. */
export function checkPromptArgs(def: PromptDefinition, args: unknown): SchemaIssue[] {
  const given = args ?? {};
  if (!isObject(given)) return [{ path: 'arguments', message: 'must be an object of string values' }];
  const declared = new Map((def.arguments ?? []).map((a) => [a.name, a]));
  const issues: SchemaIssue[] = [];
  for (const [name, value] of Object.entries(given)) {
    if (!declared.has(name)) {
      const known = [...declared.keys()].join(', ') || 'none';
      issues.push({ path: name, message: `unknown argument ${name}; this prompt takes: ${known}` });
    } else if (typeof value !== 'string') issues.push({ path: name, message: 'must be a string' });
  }
  for (const a of declared.values()) {
    if (a.required && !Object.hasOwn(given, a.name)) issues.push({ path: a.name, message: 'is required' });
  }
  return issues.slice(0, 20);
}

/** The JSON Schema of a prompt's arguments, for the listing (checkPromptArgs is what enforces it). */
function argumentsSchema(def: PromptDefinition): ObjectJsonSchema {
  const args = def.arguments ?? [];
  return {
    type: 'object',
    properties: Object.fromEntries(
      args.map((a) => [a.name, { type: 'string', ...(a.description ? { description: a.description } : {}) }]),
    ),
    required: args.filter((a) => a.required).map((a) => a.name),
    additionalProperties: false,
  };
}

/**
 * A prompts/get result made safe to pass on: every message `user` or `assistant` with one
 * content block of a known type, URIs in the upstream's namespace, and text cut to the cap
 * (the role of a cut-off notice is the last kept message's). Anything else is refused whole.
 */
export function toPromptOutput(ns: Namespace, raw: unknown, maxBytes: number): ToolOutput {
  const bad = (why: string) =>
    new ToolInputError(`The upstream server "${ns.upstream}" sent a malformed prompt: ${why}.`);
  if (!isObject(raw) || !Array.isArray(raw.messages)) throw bad('no messages');
  if (raw.messages.length > 1000) throw bad('more than 1000 messages');
  if (raw.description !== undefined && typeof raw.description !== 'string')
    throw bad('description is not a string');
  const roles: ('user' | 'assistant')[] = [];
  const content = raw.messages.map((m: unknown, i) => {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant'))
      throw bad(`message ${i} has a role other than user or assistant`);
    roles.push(m.role);
    return parseContentBlock(ns, m.content);
  });
  const capped = capOutput({ content }, maxBytes, ns.upstream);
  const last = roles[Math.min(roles.length, capped.content.length) - 1] ?? 'user';
  return {
    content: capped.content,
    roles: capped.content.map((_, i) => roles[i] ?? last),
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
  };
}

/** The prompt entry of one approved, redacted prompt definition: how it is listed, and prompts/get. */
export function buildPromptEntry(input: {
  readonly ns: Namespace;
  readonly definition: PromptDefinition;
  readonly classification: SurfaceClassification;
  readonly maxOutputBytes: number;
  readonly request: RequestUpstream;
}): PromptEntry {
  const { ns, definition: def } = input;
  const name = servedName(ns, def.name);
  return {
    listed: {
      name,
      ...(def.title !== undefined ? { title: def.title } : {}),
      ...(def.description !== undefined ? { description: def.description } : {}),
      ...(def.arguments ? { arguments: def.arguments.map((a) => ({ ...a })) } : {}),
    },
    op: {
      surface: 'prompts/get',
      name,
      title: def.title ?? def.name,
      description: def.description ?? '',
      scope: input.classification.scope,
      class: 'read',
      labels: input.classification.labels,
      upstream: ns.upstream,
      inputSchema: argumentsSchema(def),
      checkArgs(args) {
        const issues = checkPromptArgs(def, args);
        return issues.length ? { ok: false, issues } : { ok: true, value: args ?? {} };
      },
      checkOutput: (structured) => ({ ok: true, value: structured }),
      async execute(args, ctx) {
        const raw = await input.request('prompts/get', { name: def.name, arguments: args ?? {} }, ctx);
        return toPromptOutput(ns, raw, input.maxOutputBytes);
      },
    },
  };
}
