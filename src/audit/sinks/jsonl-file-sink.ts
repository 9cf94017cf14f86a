import { open, type FileHandle } from 'node:fs/promises';
import type { AuditRecord } from '../record.js';
import {
  deliverInOrder,
  type OrderedDeliveryOptions,
  type OrderedDeliveryStats,
} from './deliver-in-order.js';
import type { AuditSink } from './sink.js';

export interface JsonlFileSinkOptions {
  readonly file: string;
  readonly onError?: (err: unknown) => void;
  /** One record as one line (no newline). Default: the record's own JSON. */
  readonly encode?: (record: AuditRecord) => string;
  /** The sink's name in metrics and logs. Default `jsonl-file`. */
  readonly name?: string;
}

/**
 * Appends each committed batch to a JSON-lines file and fsyncs it (one fsync per batch). Writes are
 * serialised, so the file is in seq order. A failed write is reported and the next batch is still
 * attempted; the primary store remains the record of truth.
 */
export function createJsonlFileSink(options: JsonlFileSinkOptions): AuditSink & { failures(): number } {
  let handle: Promise<FileHandle> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let failures = 0;
  const encode = options.encode ?? ((r: AuditRecord) => JSON.stringify(r));

  const write = async (lines: string): Promise<void> => {
    handle ??= open(options.file, 'a', 0o600);
    let fh: FileHandle;
    try {
      fh = await handle;
    } catch (err) {
      // Not kept: a file that could not be opened once (its directory not there yet) is opened
      // again for the next batch, instead of every later batch failing on the same rejection.
      handle = undefined;
      throw err;
    }
    await fh.write(lines);
    await fh.datasync();
  };

  return {
    name: options.name ?? 'jsonl-file',
    write(records: readonly AuditRecord[]) {
      const lines = records.map((r) => `${encode(r)}\n`).join('');
      chain = chain.then(() =>
        write(lines).catch((err: unknown) => {
          failures += 1;
          options.onError?.(err);
        }),
      );
    },
    failures: () => failures,
    async close() {
      await chain;
      if (handle) await (await handle).close();
    },
  };
}

export interface JsonlFileExportOptions extends Omit<OrderedDeliveryOptions, 'deliver' | 'deadLetterFile'> {
  readonly file: string;
  /** One record as one line (no newline). */
  readonly encode: (record: AuditRecord) => string;
  readonly name?: string;
}

/**
 * A SIEM export to a JSON-lines file (`audit.siem` kind `jsonl`): the same promise as the syslog
 * and https exports — in seq order, nothing dropped — because a log shipper reading the file
 * cannot tell a batch that was never written from one that never happened. Appends go through
 * `deliverInOrder`, so a failed append (disk full, the directory gone) is retried with back-off
 * and the export catches up from the store instead of skipping the batch. A failed append is cut
 * back to the file's previous length first, so a torn line never glues onto the retry's first.
 */
export function createJsonlFileExport(
  options: JsonlFileExportOptions,
): AuditSink & { stats(): OrderedDeliveryStats } {
  let handle: FileHandle | undefined;
  const delivery = deliverInOrder({
    ...options,
    async deliver(batch) {
      handle ??= await open(options.file, 'a', 0o600);
      const fh = handle;
      const size = (await fh.stat()).size;
      try {
        await fh.write(batch.map((r) => `${options.encode(r)}\n`).join(''));
        await fh.datasync();
      } catch (err) {
        await fh.truncate(size).catch(() => undefined);
        handle = undefined;
        await fh.close().catch(() => undefined);
        throw err;
      }
    },
  });
  return {
    name: options.name ?? 'jsonl-file',
    write: delivery.write,
    stats: delivery.stats,
    async close() {
      await delivery.close();
      await handle?.close();
    },
  };
}
