/**
 * The main-thread side of the SQLite audit writer thread (sqlite-writer.ts). better-sqlite3
 * commits synchronously, so a commit on the main thread blocks the event loop for its fsync
 * (several milliseconds on an ordinary disk: every other request waits). The writer thread has its
 * own connection to the same file and does the commit there; the main thread keeps serving, and
 * the entries that arrive meanwhile form the next batch.
 *
 * Guarantees kept: a request resolves only with the writer's answer, sent after its transaction
 * committed (`synchronous = FULL`); an error, or the thread dying, rejects every request in flight
 * (`storage-failure`), so no caller acknowledges a record that may be lost. The thread holds the
 * process open only while a request is in flight.
 */
import { Worker } from 'node:worker_threads';
import type { Seal } from './checkpoint.js';
import { AuditError } from './errors.js';
import type { AppendAfterResult, AuditBatch } from './store.js';

export interface WriterThread {
  appendAfter(expected: Seal, batch: AuditBatch): Promise<AppendAfterResult>;
  /** Resolves once the thread has opened its connection (starting it if it stopped). */
  ready(): Promise<void>;
  /** Waits for the requests in flight, then stops the thread and closes its connection. */
  close(): Promise<void>;
}

/** A request to the writer thread. */
export interface WriterRequest {
  readonly id: number;
  readonly expected: Seal;
  readonly batch: AuditBatch;
}

/** Its answer: the result, or the error that rolled the transaction back; `ready` once it opened. */
export type WriterReply =
  | { readonly ready: true }
  | { readonly id: number; readonly result: AppendAfterResult }
  | { readonly id: number; readonly error: { message: string; detail?: string; audit: boolean } };

interface Waiting {
  readonly resolve: (result: AppendAfterResult) => void;
  readonly reject: (err: unknown) => void;
}

export function startWriterThread(file: string): WriterThread {
  let worker: Worker | undefined;
  /** The thread has opened its connection; until then requests are not written (caller falls back). */
  let ready = false;
  let nextId = 1;
  const waiting = new Map<number, Waiting>();
  let idle: (() => void) | undefined;
  let onReady: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  /**
   * Per thread, settled once it has opened its connection, failed or exited. `close` waits for it
   * before `terminate()`: terminating a thread while it still loads the native SQLite module aborts
   * the whole process (better-sqlite3 13: "FATAL ERROR: Error::New napi_get_last_error_info", seen
   * in tamper.test.ts on a loaded machine, where a store closed right after the first fast-path
   * append had started its thread).
   */
  const started = new WeakMap<Worker, Promise<void>>();

  const settle = () => {
    if (waiting.size > 0 || onReady.length > 0) return;
    worker?.unref();
    idle?.();
  };
  /** Every request in flight fails: its transaction may or may not have committed. */
  const failAll = (err: unknown) => {
    const failure = new AuditError('storage-failure', 'the audit writer thread stopped', {
      detail: String(err),
      cause: err,
    });
    for (const r of onReady) r.reject(failure);
    onReady = [];
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
    settle();
  };

  const spawn = (): Worker => {
    // No inherited execArgv: the thread needs none of the process's flags, and some that are
    // valid for the process break a worker's start (`--input-type` with `-e`; loader hooks).
    const w = new Worker(new URL('./sqlite-writer.js', import.meta.url), {
      workerData: { file },
      execArgv: [],
    });
    let settleStart: () => void = () => undefined;
    started.set(w, new Promise<void>((resolve) => (settleStart = resolve)));
    w.once('exit', () => settleStart());
    w.on('message', (reply: WriterReply) => {
      if ('ready' in reply) {
        settleStart();
        ready = worker === w;
        for (const r of onReady) r.resolve();
        onReady = [];
        settle();
        return;
      }
      const entry = waiting.get(reply.id);
      if (!entry) return;
      waiting.delete(reply.id);
      if ('result' in reply) entry.resolve(reply.result);
      else {
        const { message, detail } = reply.error;
        entry.reject(
          new AuditError(
            'storage-failure',
            reply.error.audit ? message : 'cannot commit audit records',
            detail === undefined ? {} : { detail },
          ),
        );
      }
      settle();
    });
    w.on('error', (err) => {
      settleStart();
      if (worker === w) [worker, ready] = [undefined, false];
      failAll(err);
    });
    w.on('exit', (code) => {
      if (worker === w) [worker, ready] = [undefined, false];
      if (waiting.size > 0 || onReady.length > 0) failAll(new Error(`exited with code ${code}`));
    });
    w.unref();
    return w;
  };

  return {
    appendAfter(expected, batch) {
      worker ??= spawn();
      if (!ready) return Promise.resolve('not-written');
      const id = nextId++;
      const request: WriterRequest = { id, expected, batch };
      return new Promise<AppendAfterResult>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker!.ref();
        try {
          worker!.postMessage(request);
        } catch (err) {
          waiting.delete(id);
          settle();
          reject(new AuditError('storage-failure', 'cannot commit audit records', { cause: err }));
        }
      });
    },
    ready() {
      worker ??= spawn();
      if (ready) return Promise.resolve();
      // Held open until it answers, like a request in flight.
      worker.ref();
      return new Promise<void>((resolve, reject) => onReady.push({ resolve, reject }));
    },
    async close() {
      if (waiting.size > 0) await new Promise<void>((resolve) => (idle = resolve));
      const w = worker;
      [worker, ready] = [undefined, false];
      // terminate() after the last answer: the thread is between transactions, so nothing is cut;
      // and after it has started (see `started`). Held open meanwhile, as for a request.
      if (!w) return;
      w.ref();
      await started.get(w);
      await w.terminate();
    },
  };
}
