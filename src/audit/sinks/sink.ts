import type { AuditRecord } from '../record.js';

/**
 * A secondary destination for committed records (file, stdout, SIEM). `write` is called with each
 * committed batch, in seq order, after the primary store's commit; it must not block or throw for
 * long: a sink queues and delivers on its own. `close` delivers what it can and releases resources.
 */
export interface AuditSink {
  readonly name: string;
  write(records: readonly AuditRecord[]): void;
  close(): Promise<void>;
}
