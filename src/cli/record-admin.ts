import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createAuditLog,
  describeArgs,
  ensureAuditKeys,
  loadAuditKeys,
  openSqliteAuditStore,
  type JsonValue,
} from '../audit/index.js';
import { loadConfig } from '../config/index.js';
import { dataDirLayout } from '../data-dir/index.js';

/** Who acts from the command line: the operating-system account that ran it. */
export function cliPrincipal(): string {
  return `cli:${os.userInfo().username}`;
}

/**
 * Writes one control-plane `admin` record for a change made from the CLI, into the same hash
 * chain the gateway writes (issue 10, finding 10). Called before the change is made, and a
 * failure stops the command: a change the operator cannot see in the log must not happen. The
 * change's subject (e.g. which person, which role) goes in `args` as a payload, keyed and
 * erasable like any personal field. Nothing is written when the audit log is switched off.
 */
export async function recordAdminChange(
  dataDir: string,
  change: { readonly reason: string; readonly subject: Record<string, JsonValue> },
): Promise<void> {
  const layout = dataDirLayout(dataDir);
  const config = loadConfig({ file: layout.config, required: true });
  if (!config.audit.enabled) return;
  const file = path.resolve(dataDir, config.audit.file);
  // A data directory that was initialised but never started has no log yet: it begins here,
  // with the keys the gateway would create. An existing log is only ever extended with its own.
  const keys = existsSync(file) ? await loadAuditKeys(layout.keys) : await ensureAuditKeys(layout.keys);
  const store = openSqliteAuditStore({ file });
  try {
    // The record and the new signed head commit in one transaction; the log is not closed, since
    // closing signs a checkpoint, which the running gateway's own log does in due course.
    const log = await createAuditLog({ store, keys, checkpointEvery: config.audit.checkpointEvery });
    await log.append({
      correlationId: randomUUID(),
      principal: cliPrincipal(),
      event: 'admin',
      args: describeArgs(change.subject, keys.argsHmacKey, { fullPayload: true }),
      decision: 'allow',
      reasons: [change.reason],
      outcome: 'ok',
      latencyMs: 0,
      bytesIn: 0,
      bytesOut: 0,
    });
  } finally {
    await store.close();
  }
}
