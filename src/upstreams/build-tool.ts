import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { truncationNotice } from '../safety/index.js';
import {
  ToolInputError,
  type Checked,
  type ContentBlock,
  type ObjectJsonSchema,
  type SchemaIssue,
  type Tool,
  type ToolContext,
  type ToolOutput,
} from '../tools/index.js';
import type { Classification } from './classify-tool.js';
import type { ToolDefinition } from './mcp-client.js';
import { isObject, servedUri, type Namespace } from './parse-content.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

/** One validator set per listing: schemas of different servers never share an ajv instance. */
export function createSchemaCompiler(): Ajv2020 {
  // strict: unknown keywords, formats and ambiguous schemas fail to compile (and block the tool)
  // rather than being ignored, so what the model is told and what is enforced cannot drift.
  // No loadSchema: a remote $ref never makes the gateway fetch anything; it fails to compile.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  return ajv;
}

const KNOWN_DIALECTS = new Set([
  'https://json-schema.org/draft/2020-12/schema',
  'http://json-schema.org/draft-07/schema',
  'https://json-schema.org/draft-07/schema',
]);

/**
 * The schema as it is checked and listed: the `$schema` of the usual dialects dropped (checked as
 * 2020-12, which they agree with for tool schemas), and a root object with `properties` but no
 * rule for other keys closed with `additionalProperties: false` — unknown arguments are refused,
 * never forwarded to the server (DESIGN.md: strict validation, no extra keys).
 */
export function prepareSchema(schema: Record<string, unknown>, closeRoot: boolean): Record<string, unknown> {
  const { $schema, ...rest } = schema;
  if (
    $schema !== undefined &&
    !(typeof $schema === 'string' && KNOWN_DIALECTS.has($schema.replace(/#$/, '')))
  ) {
    throw new Error(`unsupported $schema ${JSON.stringify($schema).slice(0, 80)}`);
  }
  const open = [
    'additionalProperties',
    'unevaluatedProperties',
    'patternProperties',
    'allOf',
    'anyOf',
    'oneOf',
    '$ref',
    'if',
  ];
  if (closeRoot && rest.properties !== undefined && !open.some((k) => k in rest)) {
    return { ...rest, additionalProperties: false };
  }
  return rest;
}

function issuesOf(errors: readonly ErrorObject[] | null | undefined): SchemaIssue[] {
  return (errors ?? []).slice(0, 20).map((e) => {
    const path = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'arguments';
    if (e.keyword === 'additionalProperties') {
      const key = String((e.params as { additionalProperty?: unknown }).additionalProperty);
      return { path, message: `unknown field ${key}; remove it` };
    }
    return { path, message: e.message ?? 'is invalid' };
  });
}

function checker<T>(validate: ValidateFunction): (value: unknown) => Checked<T> {
  return (value) =>
    validate(value) ? { ok: true, value: value as T } : { ok: false, issues: issuesOf(validate.errors) };
}

const byteLength = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

/** Cuts text to a UTF-8 byte budget without splitting a code point. */
export function cutUtf8(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8');
  if (encoded.length <= bytes) return text;
  let end = Math.max(0, bytes);
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end--;
  return encoded.subarray(0, end).toString('utf8');
}

/**
 * Keeps a result within `maxBytes`: text blocks are cut (with the sanitiser's notice), other
 * blocks that do not fit are dropped. Structured content cannot be cut without breaking its
 * schema, so a result whose structured part alone is too large is refused.
 */
export function capOutput(output: ToolOutput, maxBytes: number, upstream: string): ToolOutput {
  const total = byteLength(output.content) + (output.structured ? byteLength(output.structured) : 0);
  if (total <= maxBytes) return output;
  if (output.structured && byteLength(output.structured) > maxBytes / 2) {
    throw new ToolInputError(
      `The result from "${upstream}" was ${total} bytes, over the ${maxBytes}-byte cap. Ask for less (a narrower query or a smaller range).`,
    );
  }
  let budget = maxBytes - (output.structured ? byteLength(output.structured) : 0);
  const content: ContentBlock[] = [];
  for (const block of output.content) {
    const size = byteLength(block);
    if (size <= budget) {
      content.push(block);
      budget -= size;
    } else if (block.type === 'text' && typeof block.text === 'string' && budget > 64) {
      content.push({ type: 'text', text: cutUtf8(block.text, budget - 64) });
      budget = 0;
    } else break;
  }
  content.push({ type: 'text', text: truncationNotice(maxBytes) });
  return { ...output, content };
}

/**
 * A content block with the URI of an embedded resource or a resource link put into the
 * upstream's own namespace (as resources/read does), so the client can read it back through the
 * gateway and a server cannot point a client at another upstream's resources.
 */
function namespaceUris(block: ContentBlock, ns: Namespace): ContentBlock {
  if (block.type === 'resource_link' && typeof block.uri === 'string')
    return { ...block, uri: servedUri(ns, block.uri) };
  if (block.type === 'resource' && isObject(block.resource) && typeof block.resource.uri === 'string') {
    return { ...block, resource: { ...block.resource, uri: servedUri(ns, block.resource.uri) } };
  }
  return block;
}

/** Turns a raw `tools/call` result into a ToolOutput, dropping anything not shaped like MCP. */
function toToolOutput(raw: unknown, ns: Namespace): ToolOutput {
  const upstream = ns.upstream;
  if (!isObject(raw)) throw new ToolInputError(`The upstream server "${upstream}" sent a malformed result.`);
  const content = Array.isArray(raw.content)
    ? raw.content
        .filter((b): b is ContentBlock => isObject(b) && typeof b.type === 'string')
        .map((b) => namespaceUris(b, ns))
    : [];
  return {
    content,
    ...(isObject(raw.structuredContent) ? { structured: raw.structuredContent } : {}),
    ...(raw.isError === true ? { isError: true } : {}),
  };
}

export type CallUpstream = (toolName: string, args: unknown, ctx: ToolContext) => Promise<unknown>;

/**
 * A catalogue `Tool` for one approved upstream definition. Arguments and structured output are
 * checked against the upstream's own JSON Schemas (ajv, 2020-12); a schema that does not compile
 * means the tool cannot be checked, so it is not served (the caller records why).
 */
export function buildUpstreamTool(input: {
  readonly upstream: string;
  /** Served with an empty namespace: the tool's own name, URIs unchanged (config `namespace: ''`). */
  readonly unprefixed?: boolean;
  readonly definition: ToolDefinition;
  readonly classification: Classification;
  readonly ajv: Ajv2020;
  readonly maxOutputBytes: number;
  readonly call: CallUpstream;
}): Tool {
  const { upstream, definition: def, ajv } = input;
  const inputSchema = prepareSchema(def.inputSchema, true) as ObjectJsonSchema;
  const outputSchema = def.outputSchema
    ? (prepareSchema(def.outputSchema, false) as ObjectJsonSchema)
    : undefined;
  const checkArgs = checker<unknown>(ajv.compile(inputSchema));
  const checkStructured = outputSchema
    ? checker<Record<string, unknown>>(ajv.compile(outputSchema))
    : undefined;

  return {
    name: input.unprefixed ? def.name : `${upstream}__${def.name}`,
    title: def.title ?? (typeof def.annotations?.title === 'string' ? def.annotations.title : def.name),
    description: def.description ?? '',
    scope: input.classification.scope,
    class: input.classification.class,
    labels: input.classification.labels,
    upstream,
    ...(input.classification.approvalText !== undefined
      ? { approvalText: input.classification.approvalText }
      : {}),
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
    checkArgs,
    checkOutput: (structured) =>
      structured === undefined || !checkStructured
        ? { ok: true, value: structured }
        : checkStructured(structured),
    async execute(args, ctx) {
      const output = capOutput(
        toToolOutput(await input.call(def.name, args, ctx), {
          upstream,
          unprefixed: input.unprefixed ?? false,
        }),
        input.maxOutputBytes,
        upstream,
      );
      // MCP server/tools §output-schema: a server declaring one MUST return conforming structured
      // content. One that does not is broken or lying; the model is told so, not given the data.
      if (checkStructured && !output.isError) {
        const checked = output.structured ? checkStructured(output.structured) : undefined;
        if (!checked?.ok) {
          throw new ToolInputError(
            `The upstream server "${upstream}" returned a result that does not match the output schema of ${def.name}.`,
          );
        }
      }
      return output.isError ? { content: output.content, isError: true } : output;
    },
  };
}
