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
  | 'upstream-http-error'
  /** 2026-07-28: the server asked the caller for something this call did not declare or relay. */
  | 'upstream-undeclared-request';

/** A public message for the model, a private detail for logs. */
export class UpstreamError extends PortcullisError<UpstreamErrorCode> {
  constructor(
    code: UpstreamErrorCode,
    publicMessage: string,
    options: { detail?: string; cause?: unknown; rpc?: { code: unknown; data: unknown } } = {},
  ) {
    super(code, publicMessage, options);
    this.name = 'UpstreamError';
    this.rpc = options.rpc;
  }

  /** An `upstream-rpc-error`'s JSON-RPC code and data as the server sent them (untrusted). */
  readonly rpc: { readonly code: unknown; readonly data: unknown } | undefined;
}

export function isUpstreamError(err: unknown): err is UpstreamError {
  return err instanceof UpstreamError;
}
