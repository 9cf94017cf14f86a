export type SandboxErrorCode = 'sandbox-unavailable' | 'executable-not-found' | 'path-not-found';

/**
 * A process that could not be started as asked. Same shape as `PortcullisError` (code,
 * publicMessage, detail); the message names the configuration, never a secret.
 */
export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  readonly publicMessage: string;
  readonly detail: string | undefined;

  constructor(code: SandboxErrorCode, publicMessage: string, options: { detail?: string } = {}) {
    super(publicMessage);
    this.name = 'SandboxError';
    this.code = code;
    this.publicMessage = publicMessage;
    this.detail = options.detail;
  }
}
