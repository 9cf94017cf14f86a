import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import type { SignIn, SignInForm } from '../signin/index.js';
import { csrfRefusedPage, errorPage, pageResponse, type SafeHtml } from '../ui/index.js';
import type { UserRecord } from '../users/index.js';
import type { Connections, Person } from './create-connections.js';
import { connectionsView, continueView } from './views.js';

export interface ConnectionRoutesDeps {
  readonly connections: Connections;
  readonly signin: SignIn;
  /** The header links of the account pages (Connected apps, Your accounts, Sign out). */
  readonly nav: (csrf: string) => SafeHtml;
  /** Origins a Connect may be redirected to straight from the form (the page CSP's form-action). */
  readonly formTargets: readonly string[];
  readonly logger: Logger;
}

type Env = { Variables: { requestId: string } };

const NOTICES: Record<string, string> = {
  connected: 'Connected. Your tool calls to that server now use your own account.',
  disconnected: 'Disconnected. The credential is deleted and, where the server allows, revoked there.',
};

/** The longest form body these routes read (a pasted key is at most 16 KiB). */
const MAX_FORM_BYTES = 32 * 1024;

const personOf = (u: UserRecord): Person => ({ tenant: u.tenant, subject: u.name });

/**
 * /account/connections: each upstream that needs the person's own credential, its state, and
 * Connect / Reconnect / Disconnect. No JavaScript; every POST carries a CSRF token bound to the
 * signed-in person; a pasted key is never echoed back.
 */
export function createConnectionRoutes(deps: ConnectionRoutesDeps): Hono<Env> {
  const app = new Hono<Env>();
  const { csrf, sessions } = deps.signin;
  const purpose = (u: UserRecord) => `connections:${u.name}`;
  const loginForm: SignInForm = {
    action: '/account/connections/login',
    purpose: 'connections-login',
    lead: 'to connect your accounts on other services',
  };

  async function render(
    c: Context<Env>,
    user: UserRecord,
    notice?: { kind: 'ok' | 'error'; text: string },
    status = 200,
  ) {
    const cookie = c.req.header('cookie');
    const forms = csrf.issue(cookie, purpose(user));
    const nav = csrf.issue(cookie, `account:${user.name}`);
    const items = await deps.connections.overview(personOf(user));
    return pageResponse(
      {
        title: 'Your accounts',
        wide: true,
        status,
        nav: deps.nav(nav.token),
        formTargets: deps.formTargets,
        body: connectionsView({ user: user.name, csrf: forms.token, items, ...(notice ? { notice } : {}) }),
      },
      forms.setCookie ? { 'set-cookie': forms.setCookie } : {},
    );
  }

  /** The signed-in person and the form, CSRF checked; a Response when either is missing. */
  async function formOf(
    c: Context<Env>,
  ): Promise<{ user: UserRecord; form: Record<string, unknown> } | Response> {
    const user = await sessions.current(c.req.header('cookie'));
    if (!user) return c.redirect('/account/connections', 303);
    if (Number(c.req.header('content-length') ?? 0) > MAX_FORM_BYTES)
      return errorPage('Too large', 'That form was too large.', 413, c.get('requestId'));
    const form = (await c.req.parseBody()) as Record<string, unknown>;
    if (!csrf.verify(c.req.header('cookie'), purpose(user), form.csrf))
      return csrfRefusedPage(c.get('requestId'));
    return { user, form };
  }

  app.get('/account/connections', async (c) => {
    const user = await sessions.current(c.req.header('cookie'));
    if (!user) return deps.signin.page(c, loginForm);
    const done = NOTICES[c.req.query('done') ?? ''];
    return render(c, user, done ? { kind: 'ok', text: done } : undefined);
  });

  app.post('/account/connections/login', (c) =>
    deps.signin.submit(c, loginForm, (_user, setCookie) => {
      c.header('set-cookie', setCookie);
      return c.redirect('/account/connections', 303);
    }),
  );

  app.post('/account/connections/:upstream/secret', async (c) => {
    const got = await formOf(c);
    if (got instanceof Response) return got;
    const secret = typeof got.form.secret === 'string' ? got.form.secret : '';
    const outcome = await deps.connections.connectSecret(
      personOf(got.user),
      c.req.param('upstream'),
      secret,
      c.get('requestId'),
    );
    if (!outcome.ok) return render(c, got.user, { kind: 'error', text: outcome.message }, 400);
    return c.redirect('/account/connections?done=connected', 303);
  });

  app.post('/account/connections/:upstream/connect', async (c) => {
    const got = await formOf(c);
    if (got instanceof Response) return got;
    const upstream = c.req.param('upstream');
    const begun = await deps.connections.beginOAuth(personOf(got.user), upstream);
    if (!begun.ok) return render(c, got.user, { kind: 'error', text: begun.message }, 400);
    // Chromium applies the page's form-action to the redirects after a submission: an origin
    // the page did not name gets a link to follow instead of a redirect the browser would block.
    if (deps.formTargets.includes(new URL(begun.url).origin)) return c.redirect(begun.url, 303);
    return pageResponse({ title: `Connect ${upstream}`, body: continueView(upstream, begun.url) });
  });

  app.get('/account/connections/callback', async (c) => {
    const user = await sessions.current(c.req.header('cookie'));
    if (!user)
      return errorPage(
        'Sign in first',
        'Sign in on the connections page, then connect again.',
        401,
        c.get('requestId'),
      );
    const outcome = await deps.connections.completeOAuth(
      personOf(user),
      new URL(c.req.url),
      c.get('requestId'),
    );
    if (!outcome.ok) return render(c, user, { kind: 'error', text: outcome.message }, 400);
    return c.redirect('/account/connections?done=connected', 303);
  });

  app.post('/account/connections/:id/disconnect', async (c) => {
    const got = await formOf(c);
    if (got instanceof Response) return got;
    const removed = await deps.connections.disconnect(
      personOf(got.user),
      c.req.param('id'),
      c.get('requestId'),
    );
    if (!removed)
      return errorPage('Not found', 'That connection is not one of yours.', 404, c.get('requestId'));
    return c.redirect('/account/connections?done=disconnected', 303);
  });

  return app;
}
