import { eraseRecord } from './chain.js';
import type { Seal } from './checkpoint.js';
import { CALL_END_EVENTS, type AuditRecord } from './record.js';
import type { AuditBatch, AuditQuery, AuditStore, ChainState } from './store.js';
import { matchesQuery } from './match-query.js';

/** In-memory audit store for tests. "Durable" here means "in this process". */
export function createMemoryAuditStore(): AuditStore & { readonly records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  let checkpoints: Seal[] = [];
  let head: Seal | undefined;
  let anchor: Seal | undefined;

  const state = (): ChainState => ({
    head,
    anchor,
    lastSeq: records.at(-1)?.seq ?? anchor?.seq ?? 0,
    lastCheckpointSeq: checkpoints.reduce((max, cp) => Math.max(max, cp.seq), 0),
  });
  const write = (at: ChainState, batch: AuditBatch) => {
    const first = batch.records[0];
    const last = batch.records.at(-1)?.seq ?? at.lastSeq;
    if ((first && first.seq !== at.lastSeq + 1) || batch.head.seq !== last) {
      throw new Error(
        `batch ${first?.seq ?? '-'}..${last} with head ${batch.head.seq}, store at ${at.lastSeq}`,
      );
    }
    records.push(...batch.records.map((r) => structuredClone(r)));
    checkpoints.push(...batch.checkpoints);
    head = batch.head;
  };

  return {
    records,
    // Synchronous inside, so nothing interleaves between reading the state and writing; async so a
    // throw (a refused batch, a failing builder) is a rejection.
    async appendBatch(build) {
      const at = state();
      const batch = build(at);
      if (batch) write(at, batch);
      return batch;
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
    async erasePrincipal(principal, build) {
      const at = state();
      const seqs = records.filter((r) => r.principal === principal && !r.erased).map((r) => r.seq);
      if (seqs.length === 0) return seqs;
      write(at, build(at, seqs));
      const erased = new Set(seqs);
      records.forEach((r, i) => {
        if (erased.has(r.seq)) records[i] = eraseRecord(r);
      });
      return seqs;
    },
    openIntents() {
      const closed = new Set(records.filter((r) => CALL_END_EVENTS.has(r.event)).map((r) => r.correlationId));
      return Promise.resolve(
        records
          .filter((r) => r.event === 'tool-intent' && !closed.has(r.correlationId))
          .map((r) => structuredClone(r)),
      );
    },
    close: () => Promise.resolve(),
  };
}
