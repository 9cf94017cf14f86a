import {
  ToolInputError,
  type CompletionRef,
  type SchemaIssue,
  type SurfaceOperation,
  type ToolOutput,
} from '../tools/index.js';
import type { RequestUpstream } from './build-prompt.js';
import type { SurfaceClassification } from './classify-surface.js';
import { isObject } from './parse-content.js';

/** Values passed on from one completion (MCP caps a completion at 100 values too). */
const MAX_VALUES = 100;
/** Longest value passed on, and longest value a caller may ask to complete, in bytes. */
const MAX_VALUE_BYTES = 1024;

/** The variable names of an RFC 6570 URI template: `{id}`, `{+path}`, `{?a,b*}`, `{x:3}`. */
export function templateVariables(uriTemplate: string): string[] {
  const names = new Set<string>();
  for (const m of uriTemplate.matchAll(/\{([+#./;?&=,!@|]?)([^{}]*)\}/g)) {
    for (const spec of m[2]!.split(',')) {
      const name = spec.replace(/(\*|:\d+)$/, '');
      if (/^[A-Za-z0-9_.%]{1,128}$/.test(name)) names.add(name);
    }
  }
  return [...names];
}

/** The caller's ref names this completer's owner; a prompt ref may carry its `title` (MCP schema). */
const refEquals = (a: unknown, b: CompletionRef) => {
  if (!isObject(a) || a.type !== b.type) return false;
  const extra = Object.keys(a).filter(
    (k) => k !== 'type' && k !== (b.type === 'ref/prompt' ? 'name' : 'uri'),
  );
  if (extra.some((k) => !(b.type === 'ref/prompt' && k === 'title' && typeof a.title === 'string')))
    return false;
  return b.type === 'ref/prompt' ? a.name === b.name : a.uri === b.uri;
};

/** completion/complete arguments: exactly `{ ref, argument: { name, value }, context?: { arguments } }`. */
export function checkCompletionArgs(
  ref: CompletionRef,
  names: readonly string[],
  args: unknown,
): SchemaIssue[] {
  if (!isObject(args)) return [{ path: 'arguments', message: 'must be an object with ref and argument' }];
  const issues: SchemaIssue[] = [];
  for (const key of Object.keys(args))
    if (key !== 'ref' && key !== 'argument' && key !== 'context')
      issues.push({ path: key, message: `unknown field ${key}; remove it` });
  if (!refEquals(args.ref, ref)) issues.push({ path: 'ref', message: `must be ${JSON.stringify(ref)}` });
  const argument = args.argument;
  const known = names.join(', ') || 'none';
  if (
    !isObject(argument) ||
    Object.keys(argument).length !== 2 ||
    typeof argument.name !== 'string' ||
    typeof argument.value !== 'string'
  ) {
    issues.push({ path: 'argument', message: 'must be exactly { name, value } with string values' });
  } else {
    if (!names.includes(argument.name))
      issues.push({
        path: 'argument.name',
        message: `unknown argument ${argument.name}; completable: ${known}`,
      });
    if (Buffer.byteLength(argument.value, 'utf8') > MAX_VALUE_BYTES)
      issues.push({ path: 'argument.value', message: `must be at most ${MAX_VALUE_BYTES} bytes` });
  }
  if (args.context !== undefined) {
    const context = args.context;
    if (!isObject(context) || Object.keys(context).some((k) => k !== 'arguments')) {
      issues.push({ path: 'context', message: 'must be { arguments }' });
    } else if (context.arguments !== undefined) {
      if (!isObject(context.arguments))
        issues.push({ path: 'context.arguments', message: 'must be an object of strings' });
      else
        for (const [k, v] of Object.entries(context.arguments)) {
          if (!names.includes(k))
            issues.push({
              path: `context.arguments.${k}`,
              message: `unknown argument ${k}; known: ${known}`,
            });
          else if (typeof v !== 'string' || Buffer.byteLength(v, 'utf8') > MAX_VALUE_BYTES)
            issues.push({
              path: `context.arguments.${k}`,
              message: `must be a string of at most ${MAX_VALUE_BYTES} bytes`,
            });
        }
    }
  }
  return issues.slice(0, 20);
}

/** A completion/complete result made safe: string values only, at most 100, each at most 1 KiB. */
export function toCompletionOutput(upstream: string, raw: unknown): ToolOutput {
  const completion = isObject(raw) ? raw.completion : undefined;
  if (!isObject(completion) || !Array.isArray(completion.values)) {
    throw new ToolInputError(`The upstream server "${upstream}" sent a malformed completion.`);
  }
  const values = (completion.values as unknown[])
    .filter((v): v is string => typeof v === 'string' && Buffer.byteLength(v, 'utf8') <= MAX_VALUE_BYTES)
    .slice(0, MAX_VALUES);
  const total = completion.total;
  return {
    content: values.map((text) => ({ type: 'text', text })),
    structured: {
      ...(typeof total === 'number' && Number.isSafeInteger(total) && total >= 0 ? { total } : {}),
      ...(typeof completion.hasMore === 'boolean' ? { hasMore: completion.hasMore } : {}),
    },
  };
}

/**
 * The completion/complete operation for one ref (an approved prompt, or an approved resource
 * template by its gateway uriTemplate), scoped and labelled like its owner. The ref goes to the
 * server under the server's own name or uriTemplate.
 */
export function buildCompleter(input: {
  readonly upstream: string;
  /** The ref as the gateway serves it. */
  readonly ref: CompletionRef;
  /** The same ref as the upstream names it. */
  readonly upstreamRef: CompletionRef;
  readonly argumentNames: readonly string[];
  readonly classification: SurfaceClassification;
  readonly request: RequestUpstream;
}): SurfaceOperation {
  const { ref, upstream } = input;
  const owner = ref.type === 'ref/prompt' ? ref.name : ref.uri;
  return {
    surface: 'completion/complete',
    name: `completion:${owner}`,
    title: `Complete an argument of ${owner}`,
    description: `Suggested values for an argument of ${owner}, from the upstream server "${upstream}".`,
    scope: input.classification.scope,
    class: 'read',
    labels: input.classification.labels,
    upstream,
    inputSchema: {
      type: 'object',
      properties: {
        ref: { type: 'object' },
        argument: {
          type: 'object',
          properties: { name: { enum: [...input.argumentNames] }, value: { type: 'string' } },
          required: ['name', 'value'],
          additionalProperties: false,
        },
        context: {
          type: 'object',
          properties: { arguments: { type: 'object' } },
          additionalProperties: false,
        },
      },
      required: ['ref', 'argument'],
      additionalProperties: false,
    },
    checkArgs(args) {
      const issues = checkCompletionArgs(ref, input.argumentNames, args);
      return issues.length ? { ok: false, issues } : { ok: true, value: args };
    },
    checkOutput: (structured) => ({ ok: true, value: structured }),
    async execute(args, ctx) {
      const { argument, context } = args as { argument: unknown; context?: unknown };
      const raw = await input.request(
        'completion/complete',
        { ref: input.upstreamRef, argument, ...(context !== undefined ? { context } : {}) },
        ctx,
      );
      return toCompletionOutput(upstream, raw);
    },
  };
}
