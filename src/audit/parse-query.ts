import { PortcullisError } from '../errors/index.js';
import type { AuditDecision, AuditOutcome } from './record.js';
import type { AuditQuery } from './store.js';

/** A filter that cannot be understood; the CLI exits 2 and the admin API answers 400. */
export class AuditQueryError extends PortcullisError<typeof AuditQueryError.code> {
  static readonly code = 'audit-query-invalid';
  constructor(publicMessage: string) {
    super(AuditQueryError.code, publicMessage);
    this.name = 'AuditQueryError';
  }
}

const DECISIONS: readonly AuditDecision[] = ['allow', 'deny', 'confirm', 'error'];
const OUTCOMES: readonly AuditOutcome[] = [
  'ok',
  'denied',
  'invalid',
  'failed',
  'rate-limited',
  'unauthenticated',
  'pending',
  'interrupted',
];
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/** `30m`, `1h`, `7d`, `2w` (that long before `now`) or an ISO-8601 date/time, as ISO-8601 UTC. */
export function parseTimeBound(value: string, now: Date): string {
  const relative = /^(\d+)([smhdw])$/.exec(value.trim());
  if (relative) {
    return new Date(
      now.getTime() - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number),
    ).toISOString();
  }
  const time = ISO_DATE.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new AuditQueryError(
      `invalid time "${value}": use a duration such as 30m, 1h, 7d or an ISO-8601 date`,
    );
  }
  return new Date(time).toISOString();
}

export function parseDecision(value: string): AuditDecision {
  if ((DECISIONS as readonly string[]).includes(value)) return value as AuditDecision;
  throw new AuditQueryError(`invalid decision "${value}": use one of ${DECISIONS.join(', ')}`);
}

export function parseLimit(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 100_000) {
    throw new AuditQueryError(`invalid limit "${value}": use a whole number from 1 to 100000`);
  }
  return n;
}

export interface FilterOptions {
  principal?: string;
  since?: string;
  until?: string;
  tool?: string;
  decision?: string;
  outcome?: string;
  client?: string;
  upstream?: string;
  reason?: string;
}

/** Query filters from text (command-line options or HTTP query parameters). */
export function parseFilters(opts: FilterOptions, now: Date): Omit<AuditQuery, 'limit'> {
  const filters: { -readonly [K in keyof AuditQuery]?: AuditQuery[K] } = {};
  if (opts.principal !== undefined) filters.principal = opts.principal;
  if (opts.since !== undefined) filters.since = parseTimeBound(opts.since, now);
  if (opts.until !== undefined) filters.until = parseTimeBound(opts.until, now);
  if (opts.tool !== undefined) filters.tool = opts.tool;
  if (opts.decision !== undefined) filters.decision = parseDecision(opts.decision);
  if (opts.outcome !== undefined) {
    if (!(OUTCOMES as readonly string[]).includes(opts.outcome))
      throw new AuditQueryError(`invalid outcome "${opts.outcome}": use one of ${OUTCOMES.join(', ')}`);
    filters.outcome = opts.outcome as AuditOutcome;
  }
  if (opts.client !== undefined) filters.clientId = opts.client;
  if (opts.upstream !== undefined) filters.upstream = opts.upstream;
  if (opts.reason !== undefined) {
    if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(opts.reason))
      throw new AuditQueryError(`invalid reason "${opts.reason}": reasons are kebab-case words`);
    filters.reason = opts.reason;
  }
  if (filters.since !== undefined && filters.until !== undefined && filters.since >= filters.until) {
    throw new AuditQueryError('since must be before until');
  }
  return filters;
}
