import path from 'node:path';
import type { Logger } from 'pino';
import {
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
import type { EgressGuard } from '../egress/index.js';
import type { Metrics } from '../metrics/index.js';

export interface BuiltAudit {
  readonly log: AuditLog;
  readonly store: AuditStore;
  readonly keys: AuditKeys;
  close(): Promise<void>;
}

/**
 * Opens the audit store and log with the configured secondary sinks. Refuses to start on a chain
 * whose signed head does not verify: a gateway must not extend a log someone has tampered with.
 */
export async function buildAudit(deps: {
  config: Config;
  dataDir: string;
  logger: Logger;
  metrics: Metrics;
  egress: EgressGuard | undefined;
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
        fetch: async (url, init) => {
          const res = await guard.fetch(url, init);
          return { ok: res.status >= 200 && res.status < 300, status: res.status };
        },
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
