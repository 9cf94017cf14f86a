import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { AuditRecord } from './record.js';
import type { AuditQuery, AuditStore } from './store.js';

const PAGE = 500;

/**
 * Writes every record matching the filters to `out` as JSON lines, in seq order, paging through the
 * store and honouring the stream's back-pressure. Returns the number of records written.
 */
export async function exportJsonl(
  store: AuditStore,
  filters: Omit<AuditQuery, 'limit' | 'afterSeq' | 'newest'>,
  out: Writable,
  /** One record as one line (no newline). Default: the record's own JSON. */
  encode: (record: AuditRecord) => string = (r) => JSON.stringify(r),
): Promise<number> {
  let afterSeq = 0;
  let written = 0;
  for (;;) {
    const page = await store.query({ ...filters, afterSeq, limit: PAGE });
    for (const record of page) {
      if (!out.write(`${encode(record)}\n`)) await once(out, 'drain');
    }
    written += page.length;
    const last = page.at(-1);
    if (!last || page.length < PAGE) return written;
    afterSeq = last.seq;
  }
}
