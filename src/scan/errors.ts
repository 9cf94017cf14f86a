import { PortcullisError } from '../errors/index.js';

/** Why a scan (or the scan of one target) could not be done. */
export type ScanErrorCode =
  | 'scan-connect-failed'
  | 'scan-protocol-error'
  | 'scan-timeout'
  | 'scan-too-large'
  | 'scan-server-exited'
  | 'scan-bad-input';

/** A scan that could not be carried out (exit code 2), as opposed to a finding. */
export class ScanError extends PortcullisError<ScanErrorCode> {
  constructor(
    code: ScanErrorCode,
    publicMessage: string,
    options: { detail?: string; cause?: unknown } = {},
  ) {
    super(code, publicMessage, options);
    this.name = 'ScanError';
  }
}

export function isScanError(err: unknown): err is ScanError {
  return err instanceof ScanError;
}
