import type { AuditRecord } from './record.js';
import type { AuditQuery } from './store.js';

/** The query filters as a predicate: the reference semantics every store must reproduce. */
export function matchesQuery(record: AuditRecord, query: AuditQuery): boolean {
  return (
    (query.principal === undefined || record.principal === query.principal) &&
    (query.since === undefined || record.time >= query.since) &&
    (query.until === undefined || record.time < query.until) &&
    (query.tool === undefined || record.tool === query.tool) &&
    (query.decision === undefined || record.decision === query.decision) &&
    (query.outcome === undefined || record.outcome === query.outcome) &&
    (query.clientId === undefined || record.clientId === query.clientId) &&
    (query.upstream === undefined || record.upstream === query.upstream) &&
    (query.reason === undefined || record.reasons.includes(query.reason)) &&
    (query.afterSeq === undefined || record.seq > query.afterSeq)
  );
}
