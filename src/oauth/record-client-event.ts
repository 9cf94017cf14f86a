import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditEntry } from '../audit/index.js';

/** Where the audit log takes control-plane records; undefined when the log is off. */
export interface ControlPlaneAudit {
  append(entry: AuditEntry): Promise<unknown>;
}

/**
 * A client came into existence on the gateway without an operator: a Dynamic Client
 * Registration, or the first use of a Client ID Metadata Document — or such an attempt was
 * refused. Nobody is signed in at that moment, so the record has no principal.
 */
export interface ClientEvent {
  readonly reason: 'client-registered' | 'client-registration-refused';
  readonly clientId?: string;
  /** The request id, when the event happens inside a request. */
  readonly correlationId?: string;
  /** The OAuth error code of a refusal (`invalid_client_metadata`, `temporarily_unavailable`…). */
  readonly errorCode?: string;
}

/** The `admin` audit entry of a client event (see the shared control-plane convention). */
function clientEventEntry(event: ClientEvent): AuditEntry {
  const allowed = event.reason === 'client-registered';
  return {
    correlationId: event.correlationId ?? randomUUID(),
    event: 'admin',
    authMethod: 'none',
    ...(event.clientId !== undefined ? { clientId: event.clientId } : {}),
    decision: allowed ? 'allow' : 'deny',
    reasons: [event.reason],
    outcome: allowed ? 'ok' : 'denied',
    ...(event.errorCode !== undefined ? { errorCode: event.errorCode } : {}),
    latencyMs: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}

/**
 * Records client events. The record is written after the fact (oidc-provider reports a
 * registration once it has answered), so a failed write cannot undo the registration; it is
 * logged at error level for the operator's alerting.
 */
export function createClientEventRecorder(
  audit: ControlPlaneAudit | undefined,
  logger: Logger,
): (event: ClientEvent) => Promise<void> {
  return async (event) => {
    if (!audit) return;
    try {
      await audit.append(clientEventEntry(event));
    } catch (err) {
      logger.error(
        { err, reason: event.reason, clientId: event.clientId },
        'audit record of a client event failed',
      );
    }
  };
}
