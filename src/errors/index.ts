/**
 * One error hierarchy for the whole gateway. Every error carries a stable kebab-case `code`
 * (narrow with `switch (err.code)`), a `publicMessage` that may cross the wire, and a private
 * `detail` that goes only to logs and the audit record. Renderers (HTTP, JSON-RPC) live with
 * their transport; nothing else turns an error into bytes.
 */
export type ErrorCode =
  | 'config-invalid'
  | 'data-dir-invalid'
  | 'already-initialised'
  | 'not-found'
  | 'invalid-argument'
  | 'storage-failure'
  | 'internal';

/**
 * The base of every gateway error. `Code` narrows the codes a subclass may carry, so a
 * `switch (err.code)` over one class is exhaustive; the default is the gateway-wide set.
 */
export class PortcullisError<Code extends string = ErrorCode> extends Error {
  readonly code: Code;
  readonly publicMessage: string;
  readonly detail: string | undefined;

  constructor(code: Code, publicMessage: string, options: { detail?: string; cause?: unknown } = {}) {
    super(publicMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PortcullisError';
    this.code = code;
    this.publicMessage = publicMessage;
    this.detail = options.detail;
  }
}

export function isPortcullisError(err: unknown): err is PortcullisError<string> {
  return err instanceof PortcullisError;
}
