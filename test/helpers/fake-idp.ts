import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, SignJWT, type JWTPayload } from 'jose';
import Provider, { type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';

export interface IdpAccount {
  readonly sub: string;
  readonly email: string;
  readonly emailVerified: boolean;
  /** The `preferred_username` claim (scope `profile`), when the account has one. */
  readonly username?: string;
}

/** Replaces an ID token's claims (and optionally its signing key) before the token response leaves. */
export type IdTokenForgery = (claims: JWTPayload) => { claims: JWTPayload; key?: KeyObject };

export interface FakeIdp {
  readonly issuer: string;
  /**
   * Registers the IdP's static clients and starts answering (503 until then). Two steps because
   * the client's redirect URI names the gateway's port, which is only known once it is running,
   * while the gateway's configuration needs the issuer first.
   */
  serve(clients: ClientMetadata[]): void;
  /** Every token response's ID token is re-made by `forgery` until this is called again without one. */
  forgeIdTokens(forgery?: IdTokenForgery): void;
  close(): Promise<void>;
}

const KID = 'fake-idp-1';

/**
 * A real OpenID Provider (oidc-provider, the library the gateway's own authorization server is
 * built on) on 127.0.0.1 over plain http, standing in for the operator's Keycloak. Its login is
 * one form that picks an account and consents to what was asked: the test is about what the
 * gateway does with the result, not about the IdP's own login. Cookie names are its own, because
 * browsers do not separate cookies by port and the gateway runs on the same 127.0.0.1.
 */
export async function startFakeIdp(accounts: readonly IdpAccount[]): Promise<FakeIdp> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' };
  let provider: Provider | undefined;
  let forgery: IdTokenForgery | undefined;

  const server = http.createServer((req, res) => {
    if (!provider) {
      res.writeHead(503).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://idp');
    const login = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
    const answer = login
      ? req.method === 'POST' && login[2]
        ? finishLogin(provider, req, res)
        : showLogin(provider, req, res)
      : Promise.resolve(provider.callback()(req, res));
    answer.catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function showLogin(p: Provider, req: http.IncomingMessage, res: http.ServerResponse) {
    const { uid } = await p.interactionDetails(req, res);
    const options = accounts.map((a) => `<option value="${a.sub}">${a.email}</option>`).join('');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><title>Fake IdP</title><h1>Fake IdP sign-in</h1>` +
          `<form method="post" action="/interaction/${uid}/login"><select name="account">${options}</select>` +
          `<button type="submit">Sign in</button></form>`,
      );
  }

  async function finishLogin(p: Provider, req: http.IncomingMessage, res: http.ServerResponse) {
    const details = await p.interactionDetails(req, res);
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const accountId = new URLSearchParams(body).get('account') ?? '';
    if (!accounts.some((a) => a.sub === accountId)) {
      res.writeHead(400).end('unknown account');
      return;
    }
    // The person consents to everything the relying party asked for, as an IdP with
    // pre-approved first-party clients does.
    const grant = new p.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await p.interactionFinished(
      req,
      res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  return {
    issuer,
    serve(clients) {
      provider = new Provider(issuer, {
        clients,
        jwks: { keys: [jwk] },
        cookies: {
          keys: ['fake-idp-cookie-key'],
          names: { session: 'idp_session', interaction: 'idp_interaction', resume: 'idp_resume' },
        },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'] },
        findAccount: (_ctx, id) => {
          const account = accounts.find((a) => a.sub === id);
          return account
            ? {
                accountId: id,
                claims: () => ({
                  sub: id,
                  email: account.email,
                  email_verified: account.emailVerified,
                  ...(account.username ? { preferred_username: account.username } : {}),
                }),
              }
            : undefined;
        },
        ttl: { Interaction: 600, Grant: 600, Session: 600, AccessToken: 600, IdToken: 600 },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
        features: { devInteractions: { enabled: false } },
      });
      provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
        await next();
        const body = ctx.body as { id_token?: string } | undefined;
        if (ctx.path !== '/token' || !forgery || typeof body?.id_token !== 'string') return;
        const forged = forgery(decodeJwt(body.id_token));
        ctx.body = {
          ...body,
          id_token: await new SignJWT(forged.claims)
            .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
            .sign(forged.key ?? privateKey),
        };
      });
    },
    forgeIdTokens(f) {
      forgery = f;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
