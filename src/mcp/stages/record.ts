import type { AuditEntry } from '../../audit/index.js';
import type { Principal } from '../../auth/index.js';
import type { PipelineDeps } from '../context.js';

/** Identity fields of the audit record; never the credential itself. */
export function who(
  p: Principal,
): Pick<AuditEntry, 'principal' | 'tenant' | 'clientId' | 'credentialId' | 'authMethod'> {
  return {
    principal: p.subject,
    tenant: p.tenant,
    credentialId: p.credentialId,
    authMethod: p.authMethod,
    ...(p.clientId ? { clientId: p.clientId } : {}),
  };
}

/** The audit log could not commit: an operator must act (disk, locks), so it is an alert. */
export function auditUnavailable(deps: PipelineDeps, err: unknown, requestId: string): void {
  deps.metrics.recordAuditCommitFailure();
  deps.logger.error(
    { alert: 'audit-unavailable', err, requestId },
    'audit log cannot commit; calls are refused until it can',
  );
}

/** Commits a record (group commit) before the caller answers the client; false if it could not. */
export async function commitRecord(deps: PipelineDeps, entry: AuditEntry): Promise<boolean> {
  if (!deps.audit) return true;
  const stop = deps.metrics.startStage('audit');
  try {
    await deps.audit.log.append(entry);
    return true;
  } catch (err) {
    auditUnavailable(deps, err, entry.correlationId);
    return false;
  } finally {
    stop();
  }
}
