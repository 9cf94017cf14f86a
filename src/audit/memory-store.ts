import { eraseRecord } from './chain.js';
import type { Seal } from './checkpoint.js';
import type { AuditRecord } from './record.js';
import type { AuditBatch, AuditQuery, AuditStore } from './store.js';
import { matchesQuery } from './match-query.js';

/** In-memory audit store for tests. "Durable" here means "in this process". */
export function createMemoryAuditStore(): AuditStore & { readonly records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  let checkpoints: Seal[] = [];
  let head: Seal | undefined;
  let anchor: Seal | undefined;

  return {
    records,
    appendBatch(batch: AuditBatch) {
      const last = records.at(-1)?.seq ?? anchor?.seq ?? 0;
      const first = batch.records[0];
      if (first && first.seq !== last + 1) {
        return Promise.reject(new Error(`batch starts at seq ${first.seq}, expected ${last + 1}`));
      }
      records.push(...batch.records.map((r) => structuredClone(r)));
      checkpoints.push(...batch.checkpoints);
      head = batch.head;
      return Promise.resolve();
    },
    readFrom(fromSeq: number, limit: number) {
      return Promise.resolve(
        records
          .filter((r) => r.seq >= fromSeq)
          .slice(0, limit)
          .map((r) => structuredClone(r)),
      );
    },
    query(query: AuditQuery) {
      const matches = records.filter((r) => matchesQuery(r, query));
      const picked = query.newest ? matches.slice(-query.limit) : matches.slice(0, query.limit);
      return Promise.resolve(picked.map((r) => structuredClone(r)));
    },
    checkpoints: () => Promise.resolve([...checkpoints]),
    head: () => Promise.resolve(head),
    anchor: () => Promise.resolve(anchor),
    prune(newAnchor: Seal) {
      const before = records.length;
      const kept = records.filter((r) => r.seq > newAnchor.seq);
      records.splice(0, records.length, ...kept);
      checkpoints = checkpoints.filter((cp) => cp.seq >= newAnchor.seq);
      anchor = newAnchor;
      return Promise.resolve(before - records.length);
    },
    erasePrincipal(principal: string) {
      let count = 0;
      records.forEach((r, i) => {
        if (r.principal === principal) {
          records[i] = eraseRecord(r);
          count += 1;
        }
      });
      return Promise.resolve(count);
    },
    openIntents() {
      const closed = new Set(records.filter((r) => r.event === 'tool-call').map((r) => r.correlationId));
      return Promise.resolve(
        records
          .filter((r) => r.event === 'tool-intent' && !closed.has(r.correlationId))
          .map((r) => structuredClone(r)),
      );
    },
    close: () => Promise.resolve(),
  };
}
