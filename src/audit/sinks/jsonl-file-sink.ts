import { open, type FileHandle } from 'node:fs/promises';
import type { AuditRecord } from '../record.js';
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
    const fh = await handle;
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
