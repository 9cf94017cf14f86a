import { createHmac } from 'node:crypto';
import { canonicalJson, type JsonValue } from './canonical.js';

/** What kind of thing happened. */
export type AuditEvent =
  | 'tool-call'
  | 'tools-list'
  /** An upstream's resource read, prompt fetched or completion asked (issue 12: the MCP surface). */
  | 'resource-read'
  | 'prompt-get'
  | 'completion'
  /** resources/list, resources/templates/list or prompts/list. */
  | 'surface-list'
  /** A subscription to a resource's updates (resources/subscribe, subscriptions/listen). */
  | 'resource-subscribe'
  | 'authentication'
  | 'authorization'
  | 'confirmation'
  | 'admin'
  /** Written and committed before a tool with side effects runs; its `tool-call` record follows. */
  | 'tool-intent';
/** The events that end a call, closing its `tool-intent` (if it wrote one). */
export const CALL_END_EVENTS: ReadonlySet<AuditEvent> = new Set([
  'tool-call',
  'resource-read',
  'prompt-get',
  'completion',
]);

export type AuditDecision = 'allow' | 'deny' | 'confirm' | 'error';
export type AuditOutcome =
  | 'ok'
  | 'denied'
  | 'invalid'
  | 'failed'
  | 'rate-limited'
  | 'unauthenticated'
  /** A `tool-intent`: the tool is about to run. */
  | 'pending'
  /** Written at start-up for an intent whose call the process never finished (a crash). */
  | 'interrupted';
export type AuditAuthMethod = 'api-key' | 'oauth' | 'none';

/**
 * The argument *shape*: object keys with the shape of their values, `string(n)` for a string of n
 * UTF-16 code units, `array(n)` for an array of n items; never a value. Keys are kept because tool
 * input schemas are strict (no free-form keys), so keys are schema names, not user data.
 */
export type ArgShape = string | { [key: string]: ArgShape };

export interface AuditArgs {
  /** HMAC-SHA256 (hex) of the canonical arguments under the audit args key: lets an investigator
   * confirm "were these the arguments?" without the log storing them. */
  readonly hash: string;
  readonly shape: ArgShape;
  /** The arguments themselves, only for tools whose full payload logging was opted in. */
  readonly payload?: JsonValue;
}

/**
 * Fields that identify a person or carry their data. Each is hashed into the chain through a salted
 * commitment rather than by value, so erasure can drop the value and keep the chain verifiable.
 */
export const PERSONAL_FIELDS = [
  'sessionId',
  'principal',
  'tenant',
  'clientId',
  'credentialId',
  'args',
  'connectionId',
  'upstreamSubject',
] as const;
export type PersonalField = (typeof PERSONAL_FIELDS)[number];
export type Commitments = Partial<Record<PersonalField, string>>;

/** What a caller hands to `append`: the event, without the chain fields the log assigns. */
export interface AuditEntry {
  readonly correlationId: string;
  readonly sessionId?: string;
  /** API key owner, OAuth subject, or the client id under client credentials. */
  readonly principal?: string;
  readonly tenant?: string;
  readonly clientId?: string;
  /** A token id or key id, never the token or key itself. */
  readonly credentialId?: string;
  readonly authMethod?: AuditAuthMethod;
  /** The person's own upstream connection the call used (connections/), by id, never the credential. */
  readonly connectionId?: string;
  /** Who that connection acts as at the upstream, when known. */
  readonly upstreamSubject?: string;
  readonly event: AuditEvent;
  readonly tool?: string;
  readonly upstream?: string;
  readonly args?: AuditArgs;
  readonly decision: AuditDecision;
  /** Kebab-case reasons from the policy decision, stored verbatim. */
  readonly reasons: readonly string[];
  readonly scope?: string;
  readonly outcome: AuditOutcome;
  readonly errorCode?: string;
  readonly latencyMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** One stored, chained record. See DESIGN.md for what the hash covers. */
export interface AuditRecord extends AuditEntry {
  /** 1, 2, 3… with no gaps; assigned in commit order. */
  readonly seq: number;
  /** ISO-8601 UTC time at which `append` was called. */
  readonly time: string;
  readonly prevHash: string;
  readonly hash: string;
  /** Hex random salt keying this record's commitments; removed by erasure. */
  readonly salt?: string;
  /** One commitment per personal field present when the record was written. */
  readonly commitments: Commitments;
  /** Set once the personal values (and the salt) have been erased. */
  readonly erased?: true;
  /** On an `audit-erased` event only: the signed list of the records it erased (see erasure.ts). */
  readonly erasure?: AuditErasure;
}

/** Which records an erasure event erased, signed with the audit key. Hashed into the chain. */
export interface AuditErasure {
  /** The erased seqs as inclusive [first, last] ranges, ascending and disjoint. */
  readonly ranges: readonly (readonly [number, number])[];
  readonly keyId: string;
  /** base64url Ed25519 over the canonical erasure statement (erasure.ts). */
  readonly signature: string;
}

const MAX_SHAPE_DEPTH = 8;
/**
 * Keys a shape names in all, and the longest key it names. Keys come from the caller: a call with
 * 50 000 keys, or one key of a megabyte, would otherwise make a record as large as the request
 * body (and a SIEM message no receiver takes). What is past the budget is counted, not named.
 */
const MAX_SHAPE_KEYS = 256;
const MAX_SHAPE_KEY_LENGTH = 128;
/** The key under which a shape counts the keys it does not name. */
export const SHAPE_OMITTED_KEY = '…';

/**
 * Describes tool-call arguments for the audit record: a keyed hash, the shape, and the payload only
 * when `fullPayload` is set for the tool. Pure: the key is passed in.
 */
/** The value with every string and key made well-formed UTF-16; keys stay own properties. */
function wellFormed(value: JsonValue): JsonValue {
  if (typeof value === 'string') return value.toWellFormed();
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k.toWellFormed(), {
        value: wellFormed(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

export function describeArgs(raw: JsonValue, hmacKey: Buffer, options: { fullPayload: boolean }): AuditArgs {
  // Hostile arguments may hold lone surrogates, which canonical JSON (and so the chain) refuses;
  // the record describes their well-formed form (each lone surrogate as U+FFFD).
  const args = wellFormed(raw);
  const hash = createHmac('sha256', hmacKey).update(canonicalJson(args)).digest('hex');
  const shape = shapeOf(args, 0, { keys: MAX_SHAPE_KEYS });
  return options.fullPayload ? { hash, shape, payload: args } : { hash, shape };
}

function shapeOf(value: JsonValue, depth: number, budget: { keys: number }): ArgShape {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array(${value.length})`;
  switch (typeof value) {
    case 'string':
      return `string(${value.length})`;
    case 'number':
    case 'boolean':
      return typeof value;
    default: {
      if (depth >= MAX_SHAPE_DEPTH) return 'object';
      const out: { [key: string]: ArgShape } = {};
      let omitted = 0;
      for (const key of Object.keys(value).sort()) {
        const item = value[key];
        if (item === undefined) continue;
        if (budget.keys <= 0 || key.length > MAX_SHAPE_KEY_LENGTH || key === SHAPE_OMITTED_KEY) {
          omitted += 1;
          continue;
        }
        budget.keys -= 1;
        Object.defineProperty(out, key, { value: shapeOf(item, depth + 1, budget), enumerable: true });
      }
      if (omitted > 0)
        Object.defineProperty(out, SHAPE_OMITTED_KEY, { value: `keys(${omitted})`, enumerable: true });
      return out;
    }
  }
}
