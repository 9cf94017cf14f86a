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

/** Where a value sits, as `$`, `$.a`, `$[0]`…; only spelled out when something is refused. */
type Path = (string | number)[];

function where(path: Path): string {
  let out = '$';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : `.${step}`;
  return out;
}

/**
 * One pass, appending to one string: no intermediate arrays per object or array, and the path of
 * a value is kept as a stack and only formatted when the value is refused.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, []);
}

function encode(value: unknown, path: Path): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`non-finite number at ${where(path)}`);
      // ECMAScript number serialisation is exactly what RFC 8785 section 3.2.2.3 prescribes.
      return JSON.stringify(value);
    case 'string':
      return encodeString(value, path);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          path.push(i);
          // A hole or an undefined item has no JSON form.
          out += (i > 0 ? ',' : '') + (item === undefined ? fail(path) : encode(item, path));
          path.pop();
        }
        return `${out}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(`not a plain object at ${where(path)}`);
      }
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is the order RFC 8785 section 3.2.3 requires.
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const item = record[k];
        if (item === undefined) continue;
        out += `${first ? '' : ','}${encodeString(k, path)}:`;
        first = false;
        path.push(k);
        out += encode(item, path);
        path.pop();
      }
      return `${out}}`;
    }
    default:
      return fail(path);
  }
}

function encodeString(value: string, path: Path): string {
  // Not well-formed UTF-16 means a lone surrogate (a high one not followed by a low one, or a low
  // one not preceded by a high one).
  if (!value.isWellFormed()) throw new CanonicalJsonError(`lone surrogate in string at ${where(path)}`);
  return JSON.stringify(value);
}

function fail(path: Path): never {
  throw new CanonicalJsonError(`value at ${where(path)} is not JSON`);
}
