/** How the caller proved who it is. */
export type AuthMethod = 'api-key';

/**
 * The authenticated caller of one request. Built fresh from the credential on every request;
 * nothing about it is remembered between requests.
 */
export interface Principal {
  /** Who acts: an API key's owner. */
  readonly subject: string;
  /** Whose data is reached. Taken from the credential, never from a tool argument. */
  readonly tenant: string;
  /** The credential's id (never the credential itself): an API key id. */
  readonly credentialId: string;
  readonly authMethod: AuthMethod;
  readonly scopes: ReadonlySet<string>;
}
