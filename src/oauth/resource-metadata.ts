/**
 * RFC 9728 Protected Resource Metadata for /mcp: how an MCP client that knows nothing but the
 * MCP URL finds the authorization server and the scopes to ask for.
 */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported: readonly string[];
  readonly bearer_methods_supported: readonly ['header'];
  readonly resource_name: string;
}

export function protectedResourceMetadata(opts: {
  resource: string;
  authorizationServer: string;
  scopes: readonly string[];
}): ProtectedResourceMetadata {
  return {
    resource: opts.resource,
    authorization_servers: [opts.authorizationServer],
    scopes_supported: opts.scopes,
    // RFC 6750 §2.1 only: form bodies and query strings are refused (tokens in URLs leak).
    bearer_methods_supported: ['header'],
    resource_name: 'Portcullis MCP gateway',
  };
}

/** RFC 9728 §3.1: the well-known URL is the resource URL with the well-known path inserted. */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}`;
}
