import { Hono, type Context } from 'hono';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { SignIn, SignInForm } from '../../signin/index.js';
import type { Catalogue } from '../../tools/index.js';
import { csrfRefusedPage, errorPage, html, pageResponse, type Csrf } from '../../ui/index.js';
import { describeScopes } from './describe-scopes.js';
import { clientCard, consentView, type ClientView } from './views.js';
import type { OAuthEnv as Env } from '../http-env.js';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionDeps {
  readonly provider: Provider;
  /** How people sign in (one throttle, session and form for every page). */
  readonly signin: SignIn;
  readonly csrf: Csrf;
  readonly catalogue: Catalogue;
  /** Present when federated login is configured: where the button sends the person. */
  readonly federation?: { label: string; startPath: (uid: string) => string };
  readonly logger: Logger;
  readonly now: () => Date;
}

/** The origin a form's answer ends at: `form-action` must allow it (see ui/page.ts). */
function redirectTarget(redirectUri: unknown): { host: string; source?: string } {
  const url = typeof redirectUri === 'string' ? URL.parse(redirectUri) : null;
  if (!url) return { host: 'an unknown address' };
  if (url.protocol === 'http:' || url.protocol === 'https:') return { host: url.host, source: url.origin };
  return { host: `${url.protocol}//${url.host}`, source: url.protocol };
}

async function clientView(provider: Provider, details: Interaction): Promise<ClientView> {
  const clientId = String(details.params.client_id);
  const client = await provider.Client.find(clientId);
  const target = redirectTarget(details.params.redirect_uri);
  const isDocument = /^https:\/\//.test(clientId);
  return {
    name: client?.clientName ?? (isDocument ? new URL(clientId).host : 'An unnamed app'),
    redirectHost: target.host,
    ...(isDocument ? { verifiedHost: new URL(clientId).host } : {}),
  };
}

/**
 * The interaction pages oidc-provider sends a person to: login (local password, or federated),
 * then consent. Every POST needs the CSRF token of its interaction; the interaction id in the
 * URL must match the browser's own interaction cookie (set by oidc-provider), so a link to
 * somebody else's authorization request cannot be completed in a victim's browser; and a
 * finished interaction is gone, so replaying a form does nothing.
 */
export function createInteractionRoutes(deps: InteractionDeps): Hono<Env> {
  const { provider } = deps;
  const app = new Hono<Env>();

  const details = async (c: Context<Env>): Promise<Interaction | undefined> => {
    try {
      const d = await provider.interactionDetails(c.env.incoming, c.env.outgoing);
      return d.uid === c.req.param('uid') ? d : undefined;
    } catch {
      return undefined;
    }
  };
  const expired = (c: Context<Env>) =>
    errorPage(
      'This sign-in has expired',
      'This sign-in page is no longer valid: it was already used, it timed out, or it was opened in a different browser. Go back to the app and start again.',
      400,
      c.get('requestId'),
    );
  const forbidden = (c: Context<Env>) => csrfRefusedPage(c.get('requestId'));

  /** The sign-in form of an interaction: for the app asking, cancellable back to it. */
  async function loginForm(d: Interaction): Promise<SignInForm> {
    const client = await clientView(provider, d);
    const target = redirectTarget(d.params.redirect_uri);
    const base = `/oauth/interaction/${encodeURIComponent(d.uid)}`;
    return {
      action: `${base}/login`,
      abortAction: `${base}/abort`,
      purpose: `interaction:${d.uid}`,
      lead: html`to continue to <strong>${client.name}</strong>`,
      context: clientCard(client),
      formTargets: target.source ? [target.source] : [],
      clientId: String(d.params.client_id),
      ...(deps.federation
        ? { federated: { url: deps.federation.startPath(d.uid), label: deps.federation.label } }
        : {}),
    };
  }

  async function renderInteraction(c: Context<Env>, d: Interaction): Promise<Response> {
    if (d.prompt.name === 'login') return deps.signin.page(c, await loginForm(d));
    const { token, setCookie } = deps.csrf.issue(c.req.header('cookie'), `interaction:${d.uid}`);
    const headers: Record<string, string> = setCookie ? { 'set-cookie': setCookie } : {};
    const client = await clientView(provider, d);
    const target = redirectTarget(d.params.redirect_uri);
    const formTargets = target.source ? [target.source] : [];
    const base = `/oauth/interaction/${encodeURIComponent(d.uid)}`;

    if (d.prompt.name === 'consent') {
      const pd = d.prompt.details as {
        missingOIDCScope?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      const requested = [
        ...new Set([...Object.values(pd.missingResourceScopes ?? {}).flat(), ...(pd.missingOIDCScope ?? [])]),
      ];
      return pageResponse(
        {
          title: 'Allow access?',
          formTargets,
          body: consentView({
            action: `${base}/confirm`,
            abortAction: `${base}/abort`,
            csrf: token,
            client,
            account: String(d.session?.accountId ?? ''),
            scopes: describeScopes(requested, deps.catalogue),
          }),
        },
        headers,
      );
    }
    deps.logger.warn({ prompt: d.prompt.name }, 'unsupported interaction prompt');
    return errorPage(
      'This request cannot continue',
      'The app asked for something this server does not offer.',
      400,
    );
  }

  app.get('/oauth/interaction/:uid', async (c) => {
    const d = await details(c);
    return d ? renderInteraction(c, d) : expired(c);
  });

  app.post('/oauth/interaction/:uid/login', async (c) => {
    const d = await details(c);
    if (!d || d.prompt.name !== 'login') return expired(c);
    return deps.signin.submit(c, await loginForm(d), async (user, setCookie) => {
      const returnTo = await provider.interactionResult(c.env.incoming, c.env.outgoing, {
        login: { accountId: user.name },
      });
      // Signing in for an app also signs in to the account pages, where the person can later
      // disconnect that app.
      c.header('set-cookie', setCookie, { append: true });
      return c.redirect(returnTo, 303);
    });
  });

  app.post('/oauth/interaction/:uid/confirm', async (c) => {
    const d = await details(c);
    if (!d || d.prompt.name !== 'consent' || !d.session?.accountId) return expired(c);
    const form = await c.req.parseBody();
    if (!deps.csrf.verify(c.req.header('cookie'), `interaction:${d.uid}`, form.csrf)) return forbidden(c);
    const pd = d.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = d.grantId
      ? await provider.Grant.find(d.grantId)
      : new provider.Grant({ accountId: d.session.accountId, clientId: String(d.params.client_id) });
    if (!grant) return expired(c);
    if (pd.missingOIDCScope) grant.addOIDCScope(pd.missingOIDCScope.join(' '));
    if (pd.missingOIDCClaims) grant.addOIDCClaims(pd.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(pd.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    const returnTo = await provider.interactionResult(c.env.incoming, c.env.outgoing, {
      consent: d.grantId ? {} : { grantId },
    });
    return c.redirect(returnTo, 303);
  });

  app.post('/oauth/interaction/:uid/abort', async (c) => {
    const d = await details(c);
    if (!d) return expired(c);
    const form = await c.req.parseBody();
    if (!deps.csrf.verify(c.req.header('cookie'), `interaction:${d.uid}`, form.csrf)) return forbidden(c);
    const returnTo = await provider.interactionResult(
      c.env.incoming,
      c.env.outgoing,
      { error: 'access_denied', error_description: 'The person declined the request.' },
      { mergeWithLastSubmission: false },
    );
    return c.redirect(returnTo, 303);
  });

  return app;
}
