import { PortcullisError } from '../errors/index.js';

/**
 * Canonical JSON per RFC 8785 (JSON Canonicalization Scheme): object keys sorted by UTF-16 code
 * units, no insignificant whitespace, numbers in ECMAScript `Number.prototype.toString` form and
 * strings escaped as `JSON.stringify` does. Only I-JSON (RFC 7493) is accepted: non-finite numbers
 * and lone surrogates are rejected rather than silently changed, because two different inputs must
 * never canonicalise to the same bytes.
 *
 * Properties whose value is `undefined` are left out, as `JSON.stringify` does; that is how
 * optional record fields are absent from the hashed form.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A value the canonical form (RFC 8785) cannot name; the message gives its path. */
export class CanonicalJsonError extends PortcullisError<typeof CanonicalJsonError.code> {
  static readonly code = 'not-canonical-json';
  constructor(publicMessage: string) {
    super(CanonicalJsonError.code, publicMessage);
    this.name = 'CanonicalJsonError';
  }
}

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`non-finite number at ${path}`);
      // ECMAScript number serialisation is exactly what RFC 8785 section 3.2.2.3 prescribes.
      return JSON.stringify(value);
    case 'string':
      return encodeString(value, path);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => (item === undefined ? fail(`${path}[${i}]`) : encode(item, `${path}[${i}]`))).join(',')}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(`not a plain object at ${path}`);
      }
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is the order RFC 8785 section 3.2.3 requires.
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${encodeString(k, path)}:${encode(record[k], `${path}.${k}`)}`).join(',')}}`;
    }
    default:
      return fail(path);
  }
}

function encodeString(value: string, path: string): string {
  if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError(`lone surrogate in string at ${path}`);
  return JSON.stringify(value);
}

function fail(path: string): never {
  throw new CanonicalJsonError(`value at ${path} is not JSON`);
}
