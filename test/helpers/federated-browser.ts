import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FakeIdp } from './fake-idp.js';
import { tempDir } from './gateway.js';
import { formOf, TestBrowser } from './oauth-browser.js';
import { authorizationRequest, registerClient, tokenRequest } from './oauth-gateway.js';

export const IDP_CLIENT = 'portcullis';
export const IDP_SECRET = 'idp-client-secret-for-tests';

/**
 * A person's browser, as far as cookies go: one jar for 127.0.0.1 whatever the port (as real
 * browsers do), following redirects between the gateway and the IdP, stopping at the first one
 * that leaves both — the MCP client's redirect URI — or where the test asks it to.
 */
export class FederatedBrowser extends TestBrowser {
  constructor(
    origin: string,
    readonly idpOrigin: string,
  ) {
    super(origin);
  }

  async go(
    url: string,
    opts: { form?: Record<string, string>; stopBefore?: (next: URL) => boolean } = {},
  ): Promise<{ res: Response; url: string; body: string }> {
    let current = new URL(url, this.origin);
    let res = await this.request(current.href, {
      ...(opts.form ? { form: opts.form, origin: current.origin } : {}),
    });
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) break;
      const next = new URL(location, current);
      const known = next.origin === this.origin || next.origin === this.idpOrigin;
      if (!known || opts.stopBefore?.(next)) return { res, url: next.href, body: '' };
      current = next;
      res = await this.request(current.href);
    }
    return { res, url: current.href, body: await res.text() };
  }

  /**
   * From an app's authorization request: our login page, the identity provider's button
   * (`label`), the IdP's login as `account`; stops where the IdP sends the browser back to the
   * gateway's callback, and returns that callback URL.
   */
  async toCallback(authorizationUrl: string, account: string, label: string): Promise<URL> {
    const login = await this.go(authorizationUrl);
    if (login.res.status !== 200) throw new Error(`login page: ${login.res.status}`);
    const button = new RegExp(`<a class="button secondary grow" href="([^"]+)">${label}</a>`).exec(
      login.body,
    );
    if (!button) throw new Error('the login page does not offer the identity provider');
    const idpPage = await this.go(button[1]!);
    if (!idpPage.url.startsWith(this.idpOrigin)) throw new Error(`not at the IdP: ${idpPage.url}`);
    const action = /<form method="post" action="([^"]+)"/.exec(idpPage.body)![1]!;
    const back = await this.go(new URL(action, this.idpOrigin).href, {
      form: { account },
      stopBefore: (next) => next.pathname === '/oauth/federation/callback',
    });
    return new URL(back.url);
  }
}

/**
 * The environment of a gateway that federates to `idp` (plain http on 127.0.0.1, exactly that
 * address allowed), with the client secret in a file; `extra` adds or overrides settings.
 */
export function federationEnv(
  idp: FakeIdp,
  extra: Record<string, string> = {},
): { env: Record<string, string>; cleanup: () => void } {
  const dir = tempDir();
  const secretFile = path.join(dir, 'idp-secret');
  fs.writeFileSync(secretFile, `${IDP_SECRET}\n`, { mode: 0o600 });
  return {
    env: {
      PORTCULLIS_OAUTH__FEDERATION__ISSUER: idp.issuer,
      PORTCULLIS_OAUTH__FEDERATION__CLIENT_ID: IDP_CLIENT,
      PORTCULLIS_OAUTH__FEDERATION__CLIENT_SECRET: `file:${secretFile}`,
      PORTCULLIS_OAUTH__FEDERATION__DISPLAY_NAME: 'Acme SSO',
      PORTCULLIS_OAUTH__FEDERATION__ALLOW_ADDRESSES: '127.0.0.1/32',
      PORTCULLIS_OAUTH__FEDERATION__ALLOW_HTTP: 'true',
      ...extra,
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The IdP's static client for a gateway at `origin`. */
export function idpClientFor(origin: string) {
  return {
    client_id: IDP_CLIENT,
    client_secret: IDP_SECRET,
    token_endpoint_auth_method: 'client_secret_post' as const,
    redirect_uris: [`${origin}/oauth/federation/callback`],
  };
}

/**
 * A person signing in through the IdP for a newly registered public app, up to the gateway's
 * answer after the federated callback (the consent page, or a refusal).
 */
export async function federatedSignIn(
  where: { readonly origin: string; readonly mcpUrl: string; readonly issuer: string },
  account: string,
  clientName = 'Notes app',
) {
  const person = new FederatedBrowser(where.origin, where.issuer);
  const client = await registerClient(where.origin, { client_name: clientName });
  const request = authorizationRequest(where.origin, client, {
    scope: 'memory:read memory:write',
    resource: where.mcpUrl,
  });
  const callback = await person.toCallback(request.url, account, 'Acme SSO');
  return { person, client, verifier: request.verifier, page: await person.go(callback.href) };
}

/** Allows on the consent page `federatedSignIn` reached and redeems the code: the access token. */
export async function allowAndRedeem(
  where: { readonly origin: string; readonly mcpUrl: string },
  signedIn: Awaited<ReturnType<typeof federatedSignIn>>,
): Promise<string> {
  const { person, client, verifier, page } = signedIn;
  assert.equal(page.res.status, 200, page.body.slice(0, 300));
  const form = formOf(page.body);
  const done = await person.go(form.action, { form: { csrf: form.csrf } });
  const code = new URL(done.url).searchParams.get('code');
  assert.ok(code, done.url);
  const token = await tokenRequest(where.origin, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
    code_verifier: verifier,
    resource: where.mcpUrl,
  });
  assert.equal(token.status, 200);
  return (token.body as { access_token: string }).access_token;
}
