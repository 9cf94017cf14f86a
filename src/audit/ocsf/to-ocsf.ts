import type { AuditRecord } from '../record.js';

/**
 * The OCSF schema release the events follow. Pinned: a SIEM's parser is written against one
 * release, and the class fields below are the ones that release lists.
 */
export const OCSF_VERSION = '1.3.0';

/** One OCSF event: a plain JSON object (the SIEM is the reader, so no class hierarchy here). */
export type OcsfEvent = Record<string, unknown>;

export interface OcsfContext {
  /** Portcullis's own version, for `metadata.product.version`. */
  readonly productVersion: string;
}

// OCSF categories and classes used (category_uid × 1000 + class number = class_uid).
const IAM = { uid: 3, name: 'Identity & Access Management' } as const;
const APPLICATION = { uid: 6, name: 'Application Activity' } as const;
const ACCOUNT_CHANGE = { uid: 3001, name: 'Account Change', category: IAM } as const;
const AUTHENTICATION = { uid: 3002, name: 'Authentication', category: IAM } as const;
const API_ACTIVITY = { uid: 6003, name: 'API Activity', category: APPLICATION } as const;
type OcsfClass = typeof ACCOUNT_CHANGE | typeof AUTHENTICATION | typeof API_ACTIVITY;

/** API Activity's activity ids (plus the base event's Other, 99). */
const API = {
  create: [1, 'Create'],
  read: [2, 'Read'],
  update: [3, 'Update'],
  delete: [4, 'Delete'],
} as const;
type Activity = readonly [number, string];
const OTHER = (name: string): Activity => [99, name];

/**
 * Account Change's activity for each control-plane reason about a person or an API key (the
 * issue's "key and user changes"). Key changes have no OCSF activity of their own, so they are
 * Other with a name saying what happened.
 */
const ACCOUNT_ACTIVITIES: Readonly<Record<string, Activity>> = {
  'user-added': [1, 'Create'],
  'user-enabled': [2, 'Enable'],
  'password-changed': [3, 'Password Change'],
  'password-set': [4, 'Password Reset'],
  'setup-link-created': [4, 'Password Reset'],
  'user-disabled': [5, 'Disable'],
  'user-deleted': [6, 'Delete'],
  'role-changed': OTHER('Role Change'),
  'key-created': OTHER('API Key Create'),
  'key-revoked': OTHER('API Key Revoke'),
  'key-rotated': OTHER('API Key Rotate'),
};

/** The MCP method behind each call event, as `api.operation`. */
const OPERATIONS: Partial<Record<AuditRecord['event'], { operation: string; activity: Activity }>> = {
  'tool-call': { operation: 'tools/call', activity: OTHER('Invoke') },
  'tool-intent': { operation: 'tools/call', activity: OTHER('Intent') },
  'tools-list': { operation: 'tools/list', activity: API.read },
  'resource-read': { operation: 'resources/read', activity: API.read },
  'prompt-get': { operation: 'prompts/get', activity: API.read },
  completion: { operation: 'completion/complete', activity: API.read },
  'surface-list': { operation: 'list', activity: API.read },
  'resource-subscribe': { operation: 'resources/subscribe', activity: API.create },
  authorization: { operation: 'authorize', activity: OTHER('Authorize') },
  confirmation: { operation: 'confirm', activity: OTHER('Confirm') },
};

/** A control-plane reason's CRUD verb, read from its last word (`grant-revoked` → Delete). */
function adminActivity(reason: string): Activity {
  const verb = reason.split('-').at(-1) ?? '';
  if (['created', 'added', 'registered', 'granted', 'approved'].includes(verb)) return API.create;
  if (['read', 'exported', 'listed'].includes(verb)) return API.read;
  if (['revoked', 'deleted', 'removed', 'erased', 'discarded', 'rejected'].includes(verb)) return API.delete;
  if (verb === 'denied') return OTHER('Denied');
  return API.update;
}

const SEVERITY = { informational: [1, 'Informational'], low: [2, 'Low'], medium: [3, 'Medium'] } as const;

function severityOf(r: AuditRecord): readonly [number, string] {
  if (r.outcome === 'ok' || r.outcome === 'pending') return SEVERITY.informational;
  if (r.outcome === 'rate-limited' || r.outcome === 'invalid') return SEVERITY.low;
  // Denials, failed sign-ins, refused tokens and interrupted calls are what a SOC looks at.
  return SEVERITY.medium;
}

/** OCSF status: Success only for an allowed call that completed; a pending intent is Unknown. */
function statusOf(r: AuditRecord): readonly [number, string] {
  if (r.outcome === 'pending' || r.outcome === 'interrupted') return [0, 'Unknown'];
  return r.outcome === 'ok' && (r.decision === 'allow' || r.decision === 'confirm')
    ? [1, 'Success']
    : [2, 'Failure'];
}

/** The person or client that acted, as OCSF `user`. Erased records say so instead of a name. */
function userOf(r: AuditRecord, uid: string | undefined = r.principal): Record<string, unknown> {
  if (uid === undefined) return { name: r.erased ? '(erased)' : '(anonymous)', type_id: 0, type: 'Unknown' };
  return {
    uid,
    name: uid,
    ...(r.tenant !== undefined ? { org: { uid: r.tenant, name: r.tenant } } : {}),
    ...(r.credentialId !== undefined ? { credential_uid: r.credentialId } : {}),
  };
}

function actorOf(r: AuditRecord): Record<string, unknown> {
  return {
    user: userOf(r),
    ...(r.sessionId !== undefined ? { session: { uid: r.sessionId } } : {}),
    ...(r.clientId !== undefined ? { app_uid: r.clientId, app_name: r.clientId } : {}),
  };
}

/** Who an Account Change was done to: the `user` or `owner` its recorded details name, else the actor. */
function targetOf(r: AuditRecord): string | undefined {
  const payload = r.args?.payload;
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    for (const key of ['user', 'owner', 'subject']) {
      const v = payload[key];
      if (typeof v === 'string' && v !== '') return v;
    }
  }
  return r.principal;
}

/** The class a record becomes. */
function classOf(r: AuditRecord): OcsfClass {
  if (r.event === 'authentication') return AUTHENTICATION;
  if (r.event === 'admin' && r.reasons[0] !== undefined && r.reasons[0] in ACCOUNT_ACTIVITIES)
    return ACCOUNT_CHANGE;
  return API_ACTIVITY;
}

/** OCSF 1.3.0 `auth_protocol_id`: 6 = OAUTH 2.0, 99 = Other (an API key). */
function authProtocol(r: AuditRecord): Record<string, unknown> {
  if (r.authMethod === 'oauth') return { auth_protocol_id: 6, auth_protocol: 'OAUTH 2.0' };
  if (r.authMethod === 'api-key') return { auth_protocol_id: 99, auth_protocol: 'API key' };
  // Page sign-ins: a password form (or a federated IdP) at the gateway itself.
  return { auth_protocol_id: 99, auth_protocol: 'Password form' };
}

/**
 * One audit record as an OCSF event: tool calls and the other MCP operations as API Activity
 * (6003), sign-ins and token checks as Authentication (3002), person and key changes as Account
 * Change (3001), every other control-plane action as API Activity. Pure.
 *
 * What the SIEM needs to tie the event back to the tamper-evident chain is kept under
 * `unmapped.portcullis` (seq, hash, prev_hash, reasons verbatim); arguments never leave as
 * values, only as their keyed hash and shape, exactly as the record holds them.
 */
export function toOcsf(r: AuditRecord, ctx: OcsfContext): OcsfEvent {
  const cls = classOf(r);
  const activity: Activity =
    cls === AUTHENTICATION
      ? [1, 'Logon']
      : cls === ACCOUNT_CHANGE
        ? (ACCOUNT_ACTIVITIES[r.reasons[0] ?? ''] ?? OTHER('Other'))
        : r.event === 'admin'
          ? adminActivity(r.reasons[0] ?? '')
          : (OPERATIONS[r.event]?.activity ?? OTHER('Other'));
  const [severityId, severity] = severityOf(r);
  const [statusId, status] = statusOf(r);
  const time = Date.parse(r.time);
  const reasons = r.reasons.join(', ');

  const event: OcsfEvent = {
    class_uid: cls.uid,
    class_name: cls.name,
    category_uid: cls.category.uid,
    category_name: cls.category.name,
    activity_id: activity[0],
    activity_name: activity[1],
    type_uid: cls.uid * 100 + activity[0],
    type_name: `${cls.name}: ${activity[1]}`,
    time,
    severity_id: severityId,
    severity,
    status_id: statusId,
    status,
    ...(r.errorCode !== undefined ? { status_code: r.errorCode } : {}),
    ...(reasons !== '' ? { status_detail: reasons } : {}),
    message: messageOf(r),
    duration: r.latencyMs,
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'Portcullis', vendor_name: 'Portcullis', version: ctx.productVersion },
      uid: `${r.seq}`,
      correlation_uid: r.correlationId,
      sequence: r.seq,
      log_name: 'audit',
      logged_time: time,
    },
    unmapped: {
      portcullis: {
        seq: r.seq,
        hash: r.hash,
        prev_hash: r.prevHash,
        event: r.event,
        decision: r.decision,
        outcome: r.outcome,
        reasons: [...r.reasons],
        bytes_in: r.bytesIn,
        bytes_out: r.bytesOut,
        ...(r.scope !== undefined ? { scope: r.scope } : {}),
        ...(r.args !== undefined ? { args: { hash: r.args.hash, shape: r.args.shape } } : {}),
        ...(r.erased ? { erased: true } : {}),
      },
    },
  };

  if (cls === AUTHENTICATION) {
    return {
      ...event,
      user: userOf(r),
      ...authProtocol(r),
      service: { name: 'Portcullis' },
      is_remote: true,
      ...(r.sessionId !== undefined ? { session: { uid: r.sessionId } } : {}),
      ...(r.clientId !== undefined ? { actor: { app_uid: r.clientId, app_name: r.clientId } } : {}),
    };
  }
  if (cls === ACCOUNT_CHANGE) {
    return { ...event, user: userOf(r, targetOf(r)), actor: actorOf(r) };
  }
  const op = OPERATIONS[r.event];
  const operation = r.event === 'admin' ? (r.reasons[0] ?? 'admin') : (op?.operation ?? r.event);
  return {
    ...event,
    actor: actorOf(r),
    api: {
      operation,
      service: { name: r.upstream ?? 'portcullis' },
      request: { uid: r.correlationId },
      ...(r.errorCode !== undefined ? { response: { error: r.errorCode } } : {}),
    },
    // The caller's network address is not in the record (it is personal data the chain would
    // have to commit to); the MCP client stands for the source instead.
    src_endpoint: { name: r.clientId ?? r.credentialId ?? 'unknown' },
    ...(r.tool !== undefined
      ? {
          resources: [
            { name: r.tool, type: 'MCP tool', ...(r.upstream ? { group: { name: r.upstream } } : {}) },
          ],
        }
      : {}),
  };
}

function messageOf(r: AuditRecord): string {
  const who = r.principal ?? (r.erased ? '(erased)' : 'anonymous');
  const what = r.tool ? `${r.event} ${r.tool}` : r.event;
  const why = r.reasons.length > 0 ? ` (${r.reasons.join(', ')})` : '';
  return `${who}: ${what} → ${r.decision}/${r.outcome}${why}`;
}

/** RFC 5424 severity for a record, from its OCSF severity: 6 informational, 5 notice, 4 warning. */
export function syslogSeverityOf(r: AuditRecord): number {
  const [id] = severityOf(r);
  return id === 1 ? 6 : id === 2 ? 5 : 4;
}
