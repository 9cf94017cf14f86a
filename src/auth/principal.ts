/** How the caller proved who it is. */
export type AuthMethod = 'api-key' | 'oauth';

/**
 * The authenticated caller of one request. Built fresh from the credential on every request;
 * nothing about it is remembered between requests.
 */
export interface Principal {
  /** Who acts: an API key's owner, or an OAuth token's subject (the client id under client credentials). */
  readonly subject: string;
  /** Whose data is reached. Taken from the credential, never from a tool argument. */
  readonly tenant: string;
  /** The credential's id (never the credential itself): an API key id or a token's `jti`. */
  readonly credentialId: string;
  readonly authMethod: AuthMethod;
  readonly scopes: ReadonlySet<string>;
  /** The OAuth client acting for the subject; undefined for API keys. */
  readonly clientId?: string;
  /**
   * What a stateful session is bound to: stable across the refreshes of one grant (an API key
   * id; for OAuth the client and subject), so a session survives token rotation but never
   * passes to another credential.
   */
  readonly binding: string;
  /**
   * Set for a client-credentials token: the client acts for itself, with no person behind the
   * call (so nobody to confirm anything in-band).
   */
  readonly clientCredentials?: true;
  /** When the credential stops being valid (an OAuth token's `exp`, an API key's expiry), if it does. */
  readonly expiresAt?: Date;
}
