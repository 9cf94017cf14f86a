import { pino, type Logger } from 'pino';
import type { AuditRecord } from '../record.js';
import type { AuditSink } from './sink.js';

/**
 * Logs each committed record as one pino line (`msg: "audit"`, the record under `audit`), for
 * platforms that collect stdout. Pass the gateway's logger, or one is made on stdout.
 */
export function createStdoutSink(options: { logger?: Logger } = {}): AuditSink {
  const logger = options.logger ?? pino({ base: null });
  return {
    name: 'stdout',
    write(records: readonly AuditRecord[]) {
      for (const record of records) logger.info({ audit: record }, 'audit');
    },
    close() {
      return new Promise<void>((resolve) => logger.flush(() => resolve()));
    },
  };
}
