/**
 * The audit log of a data directory, as the CLI reaches it: the same file, keys and chain as the
 * gateway, so what an operator changes from a shell is recorded beside the tool calls. The gateway
 * may be running meanwhile; the audit store serialises the two writers (see src/audit/DESIGN.md).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createAuditLog,
  describeArgs,
  ensureAuditKeys,
  loadAuditKeys,
  openAuditStore,
  resolveAuditKeyRefs,
  type AuditEntry,
  type AuditKeys,
  type AuditLog,
  type AuditStore,
  type JsonValue,
} from '../audit/index.js';
import { configSchema, loadConfig, type Config } from '../config/index.js';
import { dataDirLayout, isInitialised } from '../data-dir/index.js';
import { isPortcullisError } from '../errors/index.js';
import { CommandFailed } from './command-failed.js';

/** Who acts from this shell: `cli:<os user>` (the CLI has no credential of its own). */
export function cliPrincipal(): string {
  let name: string;
  try {
    name = os.userInfo().username;
  } catch {
    name = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return `cli:${name}`;
}

/** The configuration an admin command works with: the data directory's file, or the defaults. */
function configOf(dataDir: string): Config {
  return isInitialised(dataDir)
    ? loadConfig({ file: dataDirLayout(dataDir).config })
    : configSchema.parse({});
}

/** The data directory's storage settings (the audit log is in PostgreSQL when they say so). */
export function storageOf(dataDir: string): Config['storage'] {
  return configOf(dataDir).storage;
}

/** The data directory's audit keys as the gateway loads them (files, or `keys.audit*` references). */
export async function auditKeysOf(dataDir: string): Promise<AuditKeys> {
  const config = configOf(dataDir);
  return loadAuditKeys(
    dataDirLayout(dataDir, config.keys.dir).keys,
    await resolveAuditKeyRefs(config.keys, process.env),
  );
}

/** Where the data directory's audit log is (`audit.file`, relative to the data directory). */
export function auditFileOf(dataDir: string): string {
  return path.resolve(dataDir, configOf(dataDir).audit.file);
}

export interface OpenedAuditLog {
  readonly log: AuditLog;
  readonly argsKey: Buffer;
  close(): Promise<void>;
}

/**
 * Opens the data directory's audit log for appending, with its keys (created if missing, exactly
 * as the gateway would). Refuses, as the gateway does, a chain whose head is missing or forged.
 */
export async function openAuditLog(dataDir: string): Promise<OpenedAuditLog> {
  const config = configOf(dataDir);
  const keys = await ensureAuditKeys(
    dataDirLayout(dataDir, config.keys.dir).keys,
    await resolveAuditKeyRefs(config.keys, process.env),
  );
  const store: AuditStore = await openAuditStore(config.storage, config.audit.file, dataDir);
  let log: AuditLog;
  try {
    log = await createAuditLog({ store, keys, checkpointEvery: config.audit.checkpointEvery });
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    log,
    argsKey: keys.argsHmacKey,
    async close() {
      try {
        await log.close();
      } finally {
        await store.close();
      }
    },
  };
}

/** One change an admin command made, as its audit record describes it. */
export interface AdminChange {
  /** The kebab-case verb phrase: `key-created`, `client-revoked`, `pin-approved`… */
  readonly reason: string;
  readonly clientId?: string;
  /** The key, grant or signing-key id the change is about (never a secret). */
  readonly credentialId?: string;
  readonly tenant?: string;
  readonly upstream?: string;
  /** What was changed, kept in full as the record's argument payload; never a secret. */
  readonly details?: JsonValue;
}

export interface AdminAudit {
  /** Appends the change's record and resolves once it is durable. */
  record(change: AdminChange): Promise<void>;
}

/**
 * Runs an admin command's change with the data directory's audit log open, so each change it makes
 * is recorded (event `admin`, the operator as `cli:<os user>`). The log is opened first: a command
 * whose change could not be recorded (a damaged or tampered log) fails before it changes anything.
 * Nothing is recorded when `audit.enabled` is false, or for a directory no gateway ever used.
 */
export async function withAdminAudit<T>(
  dataDir: string,
  action: (audit: AdminAudit) => Promise<T>,
): Promise<T> {
  const config = configOf(dataDir);
  const file = path.resolve(dataDir, config.audit.file);
  if (!config.audit.enabled || (!isInitialised(dataDir) && !fs.existsSync(file))) {
    return action({ record: () => Promise.resolve() });
  }
  const opened = await openAuditLog(dataDir);
  const principal = cliPrincipal();
  try {
    return await action({
      async record(change) {
        const entry: AuditEntry = {
          correlationId: randomUUID(),
          principal,
          ...(change.tenant !== undefined ? { tenant: change.tenant } : {}),
          ...(change.clientId !== undefined ? { clientId: change.clientId } : {}),
          ...(change.credentialId !== undefined ? { credentialId: change.credentialId } : {}),
          ...(change.upstream !== undefined ? { upstream: change.upstream } : {}),
          ...(change.details !== undefined
            ? { args: describeArgs(change.details, opened.argsKey, { fullPayload: true }) }
            : {}),
          event: 'admin',
          decision: 'allow',
          reasons: [change.reason],
          outcome: 'ok',
          latencyMs: 0,
          bytesIn: 0,
          bytesOut: 0,
        };
        try {
          await opened.log.append(entry);
        } catch (err) {
          // The change itself is done; say so, and that it is not on the record.
          throw new CommandFailed(
            `the change was made, but its audit record (${change.reason}) could not be written: ` +
              (isPortcullisError(err) ? err.publicMessage : String(err)),
          );
        }
      },
    });
  } finally {
    await opened.close();
  }
}
