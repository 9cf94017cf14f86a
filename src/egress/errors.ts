import { PortcullisError } from '../errors/index.js';

/**
 * Why the egress guard refused or failed a request. A closed set: the audit log stores the code
 * verbatim and the tool layer maps each one to the text a model reads.
 */
export type EgressErrorCode =
  | 'egress-invalid-url'
  | 'egress-scheme-not-allowed'
  | 'egress-userinfo'
  | 'egress-host-not-allowed'
  | 'egress-blocked-address'
  | 'egress-too-many-redirects'
  | 'egress-response-too-large'
  | 'egress-timeout'
  | 'egress-aborted'
  | 'egress-network-error';

/**
 * A refused or failed outbound request. `publicMessage` names only what the caller gave us (its
 * URL's scheme or host), never an address we resolved, so a model probing the network learns
 * nothing from the error that it did not already know; the resolved address goes to `detail`.
 */
export class EgressError extends PortcullisError<EgressErrorCode> {
  constructor(
    code: EgressErrorCode,
    publicMessage: string,
    options: { detail?: string; cause?: unknown } = {},
  ) {
    super(code, publicMessage, options);
    this.name = 'EgressError';
  }
}

export function isEgressError(err: unknown): err is EgressError {
  return err instanceof EgressError;
}
