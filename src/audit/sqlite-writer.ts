/**
 * The SQLite audit writer thread (see sqlite-writer-thread.ts): its own connection to the audit
 * file, with the same settings and the same checked write as the main connection
 * (`prepareWriter`). It answers each request after its transaction committed, in order.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { AuditError } from './errors.js';
import { configureConnection, prepareWriter } from './sqlite-store.js';
import type { WriterReply, WriterRequest } from './sqlite-writer-thread.js';

const { file } = workerData as { file: string };
const db = new Database(file, { fileMustExist: true });
configureConnection(db);
const writer = prepareWriter(db);

parentPort!.on('message', ({ id, expected, batch }: WriterRequest) => {
  let reply: WriterReply;
  try {
    reply = { id, result: writer.appendAfter.immediate(expected, batch) };
  } catch (err) {
    reply = {
      id,
      error:
        err instanceof AuditError
          ? { message: err.publicMessage, audit: true, ...(err.detail ? { detail: String(err.detail) } : {}) }
          : { message: 'cannot commit audit records', audit: false, detail: String(err) },
    };
  }
  parentPort!.postMessage(reply);
});
parentPort!.postMessage({ ready: true } satisfies WriterReply);
