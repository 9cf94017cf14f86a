import { PortcullisError } from '../errors/index.js';

export type SandboxErrorCode = 'sandbox-unavailable' | 'executable-not-found' | 'path-not-found';

/** A process that could not be started as asked; the message names the configuration, never a secret. */
export class SandboxError extends PortcullisError<SandboxErrorCode> {
  constructor(code: SandboxErrorCode, publicMessage: string, options: { detail?: string } = {}) {
    super(code, publicMessage, options);
    this.name = 'SandboxError';
  }
}
