/** How long a client is asked to wait (Retry-After) while the database cannot be reached. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * Node's errors for a connection that could not be made or was lost. A server that is down, a
 * network partition or a failover all end in one of these.
 */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTCONN',
]);

/**
 * SQLSTATE class 08 (connection exception) and the server going away under a session: 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, in recovery).
 */
const isOutageSqlState = (code: string) => code.startsWith('08') || /^57P0[123]$/.test(code);

/** What node-postgres says when a connection breaks or cannot be had in time. */
const PG_CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error/,
];

/**
 * Whether `err` (or an error it was caused by) says the database cannot be reached, as opposed
 * to a query that failed on a database that answered. The first is a wait-and-retry (503 with
 * Retry-After: nothing ran); the second stays an internal error (500).
 *
 * The egress guard's errors (`egress-*` codes) end the search: every outbound request goes
 * through the guard, so a reset under one of them is a remote server's doing, never the
 * database's. Otherwise a hostile upstream resetting its connection (ECONNRESET) would pass
 * for a database outage: 503 "database down", the storage alert, and retries invited.
 */
export function isStorageOutage(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('egress-')) return false;
    if (
      typeof code === 'string' &&
      (CONNECTION_ERRNOS.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isOutageSqlState(code)))
    )
      return true;
    if (PG_CONNECTION_MESSAGES.some((m) => m.test(e.message))) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isStorageOutage(inner))) return true;
  }
  return false;
}
