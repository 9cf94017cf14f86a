import path from 'node:path';
import type { Logger } from 'pino';
import {
  closeInterruptedCalls,
  createAuditLog,
  createJsonlFileSink,
  createStdoutSink,
  createWebhookSink,
  ensureAuditKeys,
  openSqliteAuditStore,
  type AuditKeys,
  type AuditLog,
  type AuditSink,
  type AuditStore,
} from '../audit/index.js';
import type { Config } from '../config/index.js';
import { webhookFetch, type EgressGuard } from '../egress/index.js';
import type { Metrics } from '../metrics/index.js';
import { EFFECT_JOURNAL_RETENTION_MS, type EffectJournal } from '../storage/index.js';

export interface BuiltAudit {
  readonly log: AuditLog;
  readonly store: AuditStore;
  readonly keys: AuditKeys;
  close(): Promise<void>;
}

/**
 * Opens the audit store and log with the configured secondary sinks, then closes the calls a
 * previous process left interrupted (audit/close-interrupted.ts). Refuses to start on a chain
 * whose signed head does not verify: a gateway must not extend a log someone has tampered with.
 */
export async function buildAudit(deps: {
  config: Config;
  dataDir: string;
  logger: Logger;
  metrics: Metrics;
  egress: EgressGuard | undefined;
  /** The built-in tools' write journal, which tells whether an interrupted write committed. */
  effects: EffectJournal;
}): Promise<BuiltAudit> {
  const { config, dataDir, logger, metrics } = deps;
  const keys = await ensureAuditKeys(path.join(dataDir, 'keys'));
  const store = openSqliteAuditStore({ file: path.resolve(dataDir, config.audit.file) });
  const sinks: AuditSink[] = [];
  if (config.audit.jsonlFile) {
    sinks.push(
      createJsonlFileSink({
        file: path.resolve(dataDir, config.audit.jsonlFile),
        onError: (err) => logger.error({ err }, 'audit JSON-lines sink failed'),
      }),
    );
  }
  if (config.audit.stdout) sinks.push(createStdoutSink({ logger }));
  if (config.audit.webhookUrl && deps.egress) {
    const guard = deps.egress;
    sinks.push(
      createWebhookSink({
        url: config.audit.webhookUrl,
        fetch: webhookFetch(guard),
        readFrom: (seq, n) => store.readFrom(seq, n),
        onFailure: () => metrics.recordAuditSinkFailure('webhook'),
      }),
    );
  }
  let log: AuditLog;
  try {
    log = await createAuditLog({
      store,
      keys,
      checkpointEvery: config.audit.checkpointEvery,
      sinks,
      onSinkError: (sink, err) => {
        metrics.recordAuditSinkFailure(sink);
        logger.error({ err, sink }, 'audit sink failed');
      },
    });
    const closed = await closeInterruptedCalls({
      log,
      store,
      effectOf: async (intent) => {
        // Only built-in tools journal their writes; what an upstream did is not known here.
        if (intent.upstream !== undefined) return 'unknown';
        if (await deps.effects.committed(intent.correlationId)) return 'committed';
        const age = Date.now() - Date.parse(intent.time);
        return age < EFFECT_JOURNAL_RETENTION_MS ? 'not-committed' : 'unknown';
      },
    });
    if (closed > 0) {
      logger.warn(
        { alert: 'calls-interrupted', count: closed },
        `${closed} tool call(s) begun before the last shutdown never finished; recorded as interrupted`,
      );
    }
  } catch (err) {
    await store.close();
    throw err;
  }
  metrics.setAuditQueueDepthSource(() => log.queueDepth());
  return {
    log,
    store,
    keys,
    async close() {
      await log.close();
      await store.close();
    },
  };
}
