/**
 * An in-memory OAuthClientProvider for the MCP SDK clients (v2 and 1.x share the shape): it
 * records the authorization URL the SDK wants to open instead of opening a browser, so a test can
 * hand it to a TestBrowser or Chromium and then call `transport.finishAuth(...)`.
 */
export class TestOAuthProvider {
  private info: any;
  private saved: any;
  private verifier = '';
  private discovery: any;
  authorizationUrl: URL | undefined;
  readonly redirects: URL[] = [];

  constructor(
    readonly opts: {
      redirectUrl: string;
      clientName?: string;
      /** A Client ID Metadata Document URL: the SDK then uses it as client_id instead of registering. */
      clientMetadataUrl?: string;
    },
  ) {}

  get redirectUrl() {
    return this.opts.redirectUrl;
  }

  get clientMetadataUrl() {
    return this.opts.clientMetadataUrl;
  }

  get clientMetadata() {
    return {
      // The SDK v2 derives it from the redirect URI; an SDK 1.x app must send it itself.
      application_type: 'native',
      client_name: this.opts.clientName ?? 'Test MCP client',
      redirect_uris: [this.opts.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: any) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: any) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
    this.redirects.push(url);
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  saveDiscoveryState(state: any) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
  invalidateCredentials(scope: string) {
    if (scope === 'all' || scope === 'client') this.info = undefined;
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
  }
}
