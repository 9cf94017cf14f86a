import { PortcullisError } from '../errors/index.js';

/**
 * Why a call to an upstream server did not produce a result. A closed set, stored verbatim in
 * logs; each maps to the text a model reads (see `describeUpstreamError`).
 */
export type UpstreamErrorCode =
  | 'upstream-unavailable'
  | 'upstream-timeout'
  | 'upstream-cancelled'
  | 'upstream-closed'
  | 'upstream-rpc-error'
  | 'upstream-protocol-error'
  | 'upstream-message-too-large'
  | 'upstream-http-error';

/** A public message for the model, a private detail for logs. */
export class UpstreamError extends PortcullisError<UpstreamErrorCode> {
  constructor(
    code: UpstreamErrorCode,
    publicMessage: string,
    options: { detail?: string; cause?: unknown } = {},
  ) {
    super(code, publicMessage, options);
    this.name = 'UpstreamError';
  }
}

export function isUpstreamError(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError;
}
