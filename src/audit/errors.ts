import { PortcullisError, type ErrorCode } from '../errors/index.js';

/**
 * An audit failure. `code` stays within the gateway-wide set so transports render it like any
 * other error: a batch that could not be committed is `storage-failure` (the caller must treat the
 * request as failed, because its record is not durable), bad input is `invalid-argument`.
 */
export class AuditError extends PortcullisError {
  constructor(code: ErrorCode, publicMessage: string, options: { detail?: string; cause?: unknown } = {}) {
    super(code, publicMessage, options);
    this.name = 'AuditError';
  }
}
