// The audit capability: a tamper-evident, erasure-friendly, durable log of every decision.
export type {
  AuditArgs,
  AuditAuthMethod,
  AuditDecision,
  AuditEntry,
  AuditErasure,
  AuditEvent,
  AuditOutcome,
  AuditRecord,
  ArgShape,
  Commitments,
  PersonalField,
} from './record.js';
export { describeArgs, PERSONAL_FIELDS } from './record.js';
export { canonicalJson, CanonicalJsonError, type JsonValue } from './canonical.js';
export { computeHash, sealRecord, checkCommitments, GENESIS_HASH } from './chain.js';
export { signSeal, verifySeal, type Seal, type SealKind } from './checkpoint.js';
export {
  ensureAuditKeys,
  loadAuditKeys,
  keyIdOf,
  resolveAuditKeyRefs,
  type AuditKeys,
  type AuditKeyValues,
} from './keys.js';
export { verifyAuditChain, type VerifyInput, type VerifyProblem, type VerifyResult } from './verify.js';
export { verifyAuditStore } from './verify-store.js';
export {
  iterateRecords,
  type AuditBatch,
  type AuditQuery,
  type AuditStore,
  type BatchBuilder,
  type ChainState,
} from './store.js';
export {
  AUDIT_MIGRATIONS,
  openSqliteAuditStore,
  type SqliteAuditStore,
  type SqliteAuditStoreOptions,
} from './sqlite-store.js';
export { createPostgresAuditStore, openPostgresAuditStore, AUDIT_PG_SCHEMA } from './postgres-store.js';
export { openAuditStore } from './open-audit-store.js';
export { createMemoryAuditStore } from './memory-store.js';
export { createAuditLog, type AuditLog, type AuditLogOptions, type ErasureActor } from './audit-log.js';
export { exportJsonl } from './export-jsonl.js';
export { closeInterruptedCalls, type EffectState } from './close-interrupted.js';
export { AuditError } from './errors.js';
export type { AuditSink } from './sinks/sink.js';
export {
  createJsonlFileExport,
  createJsonlFileSink,
  type JsonlFileExportOptions,
  type JsonlFileSinkOptions,
} from './sinks/jsonl-file-sink.js';
export { createStdoutSink } from './sinks/stdout-sink.js';
export { createSyslogSink, formatSyslogMessage, type SyslogSinkOptions } from './sinks/syslog-sink.js';
export {
  deliverInOrder,
  PermanentDeliveryError,
  type OrderedDeliveryOptions,
  type OrderedDeliveryStats,
} from './sinks/deliver-in-order.js';
export { OCSF_VERSION, syslogSeverityOf, toOcsf, type OcsfContext, type OcsfEvent } from './ocsf/to-ocsf.js';
export {
  createWebhookSink,
  type FetchLike,
  type WebhookSinkOptions,
  type WebhookSinkStats,
} from './sinks/webhook-sink.js';
export {
  AuditQueryError,
  parseDecision,
  parseFilters,
  parseLimit,
  parseTimeBound,
  type FilterOptions,
} from './parse-query.js';
