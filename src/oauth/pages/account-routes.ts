import { Hono, type Context } from 'hono';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { SignIn, SignInForm } from '../../signin/index.js';
import type { AuditEntry } from '../../audit/index.js';
import type { Catalogue } from '../../tools/index.js';
import { csrfRefusedPage, errorPage, pageResponse } from '../../ui/index.js';
import type { OAuthStore } from '../store/index.js';
import { describeScopes } from './describe-scopes.js';
import { accountNav, connectedAppsView } from './views.js';
import type { OAuthEnv as Env } from '../http-env.js';

export interface AccountDeps {
  /** The authorization server, built on first use (create-oauth-server.ts). */
  readonly provider: () => Promise<Provider>;
  readonly store: OAuthStore;
  readonly signin: SignIn;
  readonly catalogue: Catalogue;
  readonly federation?: { label: string; startPath: () => string };
  /** The gateway's audit chain, for the disconnections people make here. */
  readonly audit?: { append(entry: AuditEntry): Promise<unknown> };
  readonly logger: Logger;
  readonly now: () => Date;
}

const NOTICES: Record<string, string> = {
  revoked: 'Disconnected. The app can no longer act for you.',
  'signed-out': 'You are signed out.',
};

/**
 * The account pages: sign in, see every app holding a grant, disconnect one. Disconnecting
 * deletes the grant and every token issued under it; the resource server checks grants on
 * every call, so the app's very next tool call is refused.
 */
export function createAccountRoutes(deps: AccountDeps): Hono<Env> {
  const app = new Hono<Env>();
  const forbidden = (c: Context<Env>) => csrfRefusedPage(c.get('requestId'));

  const { csrf, sessions } = deps.signin;
  const loginForm: SignInForm = {
    action: '/account/login',
    purpose: 'account-login',
    lead: 'to manage the apps connected to your account',
    ...(deps.federation
      ? { federated: { url: deps.federation.startPath(), label: deps.federation.label } }
      : {}),
  };

  app.get('/account', async (c) => {
    const user = await sessions.current(c.req.header('cookie'));
    if (!user) return deps.signin.page(c, loginForm);
    const { token, setCookie } = csrf.issue(c.req.header('cookie'), `account:${user.name}`);
    const grants = await deps.store.listGrants({ accountId: user.name }, deps.now());
    const apps = await Promise.all(
      grants.map(async (g) => {
        const client = await (await deps.provider()).Client.find(g.clientId).catch(() => undefined);
        return {
          ...g,
          name: client?.clientName ?? g.clientId,
          scopeText: describeScopes(g.scopes, deps.catalogue),
        };
      }),
    );
    const notice = NOTICES[c.req.query('done') ?? ''];
    return pageResponse(
      {
        title: 'Connected apps',
        wide: true,
        nav: accountNav(token),
        body: connectedAppsView({ user: user.name, csrf: token, apps, ...(notice ? { notice } : {}) }),
      },
      setCookie ? { 'set-cookie': setCookie } : {},
    );
  });

  app.post('/account/login', (c) =>
    deps.signin.submit(c, loginForm, (_user, setCookie) => {
      c.header('set-cookie', setCookie);
      return c.redirect('/account', 303);
    }),
  );

  app.post('/account/logout', async (c) => {
    const user = await sessions.current(c.req.header('cookie'));
    const form = await c.req.parseBody();
    if (user && !csrf.verify(c.req.header('cookie'), `account:${user.name}`, form.csrf)) return forbidden(c);
    c.header('set-cookie', await sessions.end(c.req.header('cookie')));
    return c.redirect('/account?done=signed-out', 303);
  });

  app.post('/account/apps/:id/revoke', async (c) => {
    const user = await sessions.current(c.req.header('cookie'));
    if (!user) return c.redirect('/account', 303);
    const form = await c.req.parseBody();
    if (!csrf.verify(c.req.header('cookie'), `account:${user.name}`, form.csrf)) return forbidden(c);
    const id = c.req.param('id');
    const [grant] = (await deps.store.listGrants({ accountId: user.name }, deps.now())).filter(
      (g) => g.id === id,
    );
    // Another person's grant id looks exactly like an unknown one.
    if (!grant)
      return errorPage('Not found', 'That app is not connected to your account.', 404, c.get('requestId'));
    await deps.store.revokeByGrantId(grant.id);
    deps.logger.info(
      { grantId: grant.id, clientId: grant.clientId, account: user.name },
      'grant revoked by its owner',
    );
    // The disconnection stands even if its record cannot be written: taking access away must
    // never wait on the log. The failure is logged for the operator.
    await deps.audit
      ?.append({
        correlationId: c.get('requestId'),
        principal: user.name,
        tenant: user.tenant,
        clientId: grant.clientId,
        credentialId: grant.id,
        event: 'admin',
        decision: 'allow',
        reasons: ['grant-revoked'],
        outcome: 'ok',
        latencyMs: 0,
        bytesIn: 0,
        bytesOut: 0,
      })
      .catch((err: unknown) =>
        deps.logger.error(
          { err, requestId: c.get('requestId') },
          'grant revocation not recorded in the audit log',
        ),
      );
    return c.redirect('/account?done=revoked', 303);
  });

  return app;
}
