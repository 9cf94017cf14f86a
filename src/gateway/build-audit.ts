import path from 'node:path';
import type { Logger } from 'pino';
import {
  closeInterruptedCalls,
  createAuditLog,
  createJsonlFileExport,
  createJsonlFileSink,
  createStdoutSink,
  createSyslogSink,
  createWebhookSink,
  ensureAuditKeys,
  resolveAuditKeyRefs,
  syslogSeverityOf,
  toOcsf,
  openAuditStore,
  type AuditKeys,
  type AuditLog,
  type AuditSink,
  type AuditRecord,
  type AuditStore,
} from '../audit/index.js';
import { PORTCULLIS_VERSION, type Config } from '../config/index.js';
import { readFileSync } from 'node:fs';
import {
  createEgressGuard,
  INTERNAL_NETWORK_RANGES,
  webhookFetch,
  type EgressGuard,
} from '../egress/index.js';
import { dataDirLayout } from '../data-dir/index.js';
import { PortcullisError } from '../errors/index.js';
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
  /** Where `env:` key references are read (the gateway's environment). */
  env?: NodeJS.ProcessEnv;
}): Promise<BuiltAudit> {
  const { config, dataDir, logger, metrics } = deps;
  const keys = await ensureAuditKeys(
    dataDirLayout(dataDir, config.keys.dir).keys,
    await resolveAuditKeyRefs(config.keys, deps.env ?? process.env),
  );
  const store = await openAuditStore(config.storage, config.audit.file, dataDir);
  // SQLite: the gateway's batches commit on the writer thread (audit/sqlite-writer.ts), so the
  // fsync never holds the event loop; started here so the first calls already use it. (The CLI
  // opens the same store and writes on its own connection.)
  if ('writerReady' in store && typeof store.writerReady === 'function') await store.writerReady();
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
  sinks.push(...siemSinks(config, dataDir, logger, metrics, (seq, n) => store.readFrom(seq, n)));
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

/**
 * The configured SIEM exports (`audit.siem`), each with its own egress guard allowing only its
 * receiver's host, all sharing the dead-letter file.
 */
function siemSinks(
  config: Config,
  dataDir: string,
  logger: Logger,
  metrics: Metrics,
  readFrom: (seq: number, n: number) => Promise<AuditRecord[]>,
): AuditSink[] {
  const deadLetterFile = path.resolve(dataDir, config.audit.deadLetterFile);
  return config.audit.siem.map((spec, i) => {
    const name = `siem-${i + 1}-${spec.kind}`;
    const encode =
      spec.format === 'ocsf'
        ? (r: AuditRecord) => JSON.stringify(toOcsf(r, { productVersion: PORTCULLIS_VERSION }))
        : (r: AuditRecord) => JSON.stringify(r);
    const delivery = {
      name,
      readFrom,
      deadLetterFile,
      onFailure: (err: unknown) => {
        metrics.recordAuditSinkFailure(name);
        logger.warn({ err, sink: name }, 'SIEM export: delivery failed; retrying');
      },
      onDeadLetter: (records: readonly AuditRecord[]) =>
        logger.error(
          { alert: 'audit-dead-lettered', sink: name, seqs: [records[0]?.seq, records.at(-1)?.seq] },
          `SIEM export ${name} refused ${records.length} record(s) for good; written to ${deadLetterFile}`,
        ),
    };
    if (spec.kind === 'jsonl') {
      // Nothing is refused for good by a file: no dead-letter file, every failure is retried.
      return createJsonlFileExport({
        name,
        readFrom,
        file: path.resolve(dataDir, spec.file),
        encode,
        onFailure: delivery.onFailure,
      });
    }
    if (spec.kind === 'https') {
      const guard = createEgressGuard({
        allowHosts: [new URL(spec.url).hostname],
        ...(spec.allowPrivateAddress ? { allowAddresses: INTERNAL_NETWORK_RANGES } : {}),
        maxRedirects: 0,
      });
      return closing(
        createWebhookSink({ ...delivery, url: spec.url, fetch: webhookFetch(guard), encode }),
        guard,
      );
    }
    let ca: string | undefined;
    if (spec.ca !== undefined) {
      try {
        ca = readFileSync(path.resolve(dataDir, spec.ca), 'utf8');
      } catch (err) {
        throw new PortcullisError('config-invalid', `audit.siem[${i}].ca: the CA file cannot be read.`, {
          cause: err,
        });
      }
    }
    const guard = createEgressGuard({
      allowHosts: [spec.host],
      ...(spec.allowPrivateAddress ? { allowAddresses: INTERNAL_NETWORK_RANGES } : {}),
    });
    const target = { host: spec.host, port: spec.port, ...(ca !== undefined ? { ca } : {}) };
    return closing(
      createSyslogSink({
        ...delivery,
        connect: () => guard.connectTls(target),
        encode,
        severityOf: syslogSeverityOf,
        facility: spec.facility,
      }),
      guard,
    );
  });
}

/** The sink, closing its egress guard after itself. */
function closing(sink: AuditSink, guard: EgressGuard): AuditSink {
  return {
    name: sink.name,
    write: (records) => sink.write(records),
    async close() {
      await sink.close();
      await guard.close();
    },
  };
}
