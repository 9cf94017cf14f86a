import { canonicalJson, CanonicalJsonError } from '../audit/index.js';
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

export function checkCallShape(params: unknown): CallShape {
  const malformed = (message: string, name?: string): CallShape => ({
    ok: false,
    ...(name === undefined ? {} : { name }),
    reason: 'params-malformed',
    message: `Invalid params: ${message}`,
  });
  if (!isObject(params)) return malformed('tools/call needs params with a string "name".');
  const { name, arguments: args } = params;
  if (typeof name !== 'string') return malformed('tools/call needs a string "name".');
  if (args !== undefined && !isObject(args))
    return malformed('tools/call "arguments" must be an object.', name);
  try {
    canonicalJson(args ?? {});
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
  return { ok: true, name, args: args ?? {} };
}
