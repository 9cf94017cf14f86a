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

/** Same shape as `PortcullisError`: a public message for the model, a private detail for logs. */
export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;
  readonly publicMessage: string;
  readonly detail: string | undefined;

  constructor(
    code: UpstreamErrorCode,
    publicMessage: string,
    options: { detail?: string; cause?: unknown } = {},
  ) {
    super(publicMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
    this.code = code;
    this.publicMessage = publicMessage;
    this.detail = options.detail;
  }
}

export function isUpstreamError(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError;
}
