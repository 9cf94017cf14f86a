import { PortcullisError } from '../errors/index.js';

export type ConnectionErrorCode =
  | 'vault-key-invalid'
  | 'vault-key-wrong'
  | 'vault-open-failed'
  | 'connection-missing'
  | 'connection-broken'
  | 'connection-refused';

/** Errors of people's upstream credentials: public text for the person, private detail for logs. */
export class ConnectionError extends PortcullisError<ConnectionErrorCode> {
  constructor(
    code: ConnectionErrorCode,
    publicMessage: string,
    options: { detail?: string; cause?: unknown } = {},
  ) {
    super(code, publicMessage, options);
    this.name = 'ConnectionError';
  }
}

export const isConnectionError = (err: unknown): err is ConnectionError => err instanceof ConnectionError;
