import { canonicalJson, CanonicalJsonError } from '../audit/index.js';
import type { CallMethod } from './protocol.js';
import type { PipelineReason } from './reasons.js';

/**
 * The shape stage of a tools/call, run before anything with effects: `params` must be an
 * object with a string `name` and, if present, object `arguments`, and the arguments must be
 * I-JSON (RFC 7493 §2: finite numbers, well-formed Unicode). Anything else is refused with
 * -32602 and recorded. I-JSON matters because the audit record commits to the canonical form
 * of the arguments (RFC 8785, which rejects non-I-JSON): a call whose arguments cannot be
 * recorded faithfully must not run. (`1e999` parses to Infinity; a tool or an upstream would
 * see a value no record can name.)
 */
export type CallShape =
  | { readonly ok: true; readonly name: string; readonly args: Record<string, unknown> }
  | {
      readonly ok: false;
      /** The tool name, when the params carried a string one. */
      readonly name?: string;
      readonly reason: Extract<PipelineReason, 'params-malformed' | 'arguments-not-canonical'>;
      readonly message: string;
    };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The longest resource URI accepted (the gateway's namespace prefix included). */
const MAX_URI_LENGTH = 8192;
/**
 * The longest tool or prompt name accepted (MCP asks for 1–128 characters; the gateway's
 * namespace prefix comes on top). A longer one is malformed and its record names no tool: the
 * name would otherwise go into the audit record whole, so one call could write a megabyte to the
 * log and a message no SIEM accepts.
 */
const MAX_NAME_LENGTH = 512;

/**
 * What each call method names and passes on: the target's name (the record's `tool` field) and
 * the arguments the target's schema checks. Anything that does not fit is a malformed call.
 */
function readParams(
  method: CallMethod,
  params: Record<string, unknown>,
): { name: string; args: unknown } | { problem: string; name?: string } {
  switch (method) {
    case 'tools/call':
    case 'prompts/get': {
      const { name, arguments: args } = params;
      if (typeof name !== 'string') return { problem: `${method} needs a string "name".` };
      if (name.length > MAX_NAME_LENGTH)
        return { problem: `${method} "name" is longer than ${MAX_NAME_LENGTH} characters.` };
      if (args !== undefined && !isObject(args))
        return { problem: `${method} "arguments" must be an object.`, name };
      return { name, args: args ?? {} };
    }
    case 'resources/read': {
      const { uri } = params;
      if (typeof uri !== 'string' || uri === '') return { problem: 'resources/read needs a string "uri".' };
      if (uri.length > MAX_URI_LENGTH)
        return { problem: `resources/read "uri" is longer than ${MAX_URI_LENGTH} characters.` };
      return { name: uri, args: { uri } };
    }
    case 'completion/complete': {
      const { ref, argument, context } = params;
      if (!isObject(ref)) return { problem: 'completion/complete needs an object "ref".' };
      const name =
        ref.type === 'ref/prompt' && typeof ref.name === 'string'
          ? ref.name.length <= MAX_NAME_LENGTH
            ? ref.name
            : undefined
          : ref.type === 'ref/resource' && typeof ref.uri === 'string' && ref.uri.length <= MAX_URI_LENGTH
            ? ref.uri
            : undefined;
      if (name === undefined)
        return {
          problem: 'completion/complete "ref" must be {type:"ref/prompt",name} or {type:"ref/resource",uri}.',
        };
      if (!isObject(argument) || typeof argument.name !== 'string' || typeof argument.value !== 'string')
        return { problem: 'completion/complete needs "argument" with string "name" and "value".', name };
      if (context !== undefined && !isObject(context))
        return { problem: 'completion/complete "context" must be an object.', name };
      return { name, args: { ref, argument, ...(context === undefined ? {} : { context }) } };
    }
  }
}

export function checkCallShape(params: unknown, method: CallMethod = 'tools/call'): CallShape {
  const malformed = (message: string, name?: string): CallShape => ({
    ok: false,
    ...(name === undefined ? {} : { name }),
    reason: 'params-malformed',
    message: `Invalid params: ${message}`,
  });
  if (!isObject(params)) return malformed(`${method} needs params.`);
  const read = readParams(method, params);
  if ('problem' in read) return malformed(read.problem, read.name);
  const { name, args } = read;
  try {
    canonicalJson(args);
  } catch (err) {
    if (!(err instanceof CanonicalJsonError)) throw err;
    return {
      ok: false,
      name,
      reason: 'arguments-not-canonical',
      message:
        `Invalid params: the arguments of ${name} are not I-JSON (${err.message.replace('$', 'arguments')}). ` +
        'Numbers must be finite and strings well-formed Unicode.',
    };
  }
  return { ok: true, name, args: args as Record<string, unknown> };
}
