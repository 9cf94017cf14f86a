import { Hono, type Context } from 'hono';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditEntry } from '../../audit/index.js';
import { NO_SCOPES } from '../../policy/index.js';
import type { SignIn, SignInForm } from '../../signin/index.js';
import type { Catalogue } from '../../tools/index.js';
import { csrfRefusedPage, errorPage, html, pageResponse, type Csrf } from '../../ui/index.js';
import type { PersonCeilings, UserStore } from '../../users/index.js';
import { describeScopes } from './describe-scopes.js';
import { clientCard, consentView, type ClientView } from './views.js';
import type { OAuthEnv as Env } from '../http-env.js';
import { BEYOND_ROLE_REASON } from '../scope-ceiling.js';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionDeps {
  /** The authorization server, built on first use (create-oauth-server.ts). */
  readonly provider: () => Promise<Provider>;
  /** How people sign in (one throttle, session and form for every page). */
  readonly signin: SignIn;
  readonly csrf: Csrf;
  readonly catalogue: Catalogue;
  /** People's roles: the consent page names what a role withholds. */
  readonly people: PersonCeilings;
  /** The people, for the tenant of a consent's audit record. */
  readonly users: UserStore;
  /** The audit log: consents given, declined and refused are `authorization` records. */
  readonly audit?: { append(entry: AuditEntry): Promise<unknown> };
  /** Present when federated login is configured: where the button sends the person. */
  readonly federation?: { label: string; startPath: (uid: string) => string };
  readonly logger: Logger;
  readonly now: () => Date;
}

interface ConsentDetails {
  readonly missingOIDCScope?: string[];
  readonly missingOIDCClaims?: string[];
  readonly missingResourceScopes?: Record<string, string[]>;
}

/** Everything the consent would add to the grant; empty when the role allows nothing asked for. */
function consentScopes(pd: ConsentDetails): string[] {
  return [
    ...new Set([...Object.values(pd.missingResourceScopes ?? {}).flat(), ...(pd.missingOIDCScope ?? [])]),
  ];
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
    // Outside the try: an authorization server that cannot be built is not an expired sign-in.
    const built = await provider();
    try {
      const d = await built.interactionDetails(c.env.incoming, c.env.outgoing);
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
    const client = await clientView(await provider(), d);
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
    const client = await clientView(await provider(), d);
    const target = redirectTarget(d.params.redirect_uri);
    const formTargets = target.source ? [target.source] : [];
    const base = `/oauth/interaction/${encodeURIComponent(d.uid)}`;

    if (d.prompt.name === 'consent') {
      const requested = consentScopes(d.prompt.details);
      // The tool scopes the app asked for that the person's role does not allow: oidc-provider
      // already left them out of `requested` (scope-ceiling.ts); the person is told, not asked.
      const ceiling = (await deps.people.of(String(d.session?.accountId ?? ''))) ?? NO_SCOPES;
      const toolScopes = new Set(deps.catalogue.entries().map((e) => e.tool.scope));
      const asked = typeof d.params.scope === 'string' ? d.params.scope : '';
      const withheld = asked.split(' ').filter((s) => toolScopes.has(s) && !ceiling.allows(s));
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
            withheld: describeScopes([...new Set(withheld)], deps.catalogue),
            nothingWithinRole: d.prompt.reasons.includes(BEYOND_ROLE_REASON) && requested.length === 0,
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
      const returnTo = await (
        await provider()
      ).interactionResult(c.env.incoming, c.env.outgoing, {
        login: { accountId: user.name },
      });
      // Signing in for an app also signs in to the account pages, where the person can later
      // disconnect that app.
      c.header('set-cookie', setCookie, { append: true });
      return c.redirect(returnTo, 303);
    });
  });

  /** One `authorization` record per consent decision; false when it could not be committed. */
  async function recordConsent(
    c: Context<Env>,
    d: Interaction,
    result: { reason: 'consent-granted' | 'consent-declined' | 'consent-refused'; scopes?: string[] },
  ): Promise<boolean> {
    if (!deps.audit) return true;
    const accountId = d.session?.accountId === undefined ? undefined : String(d.session.accountId);
    const user = accountId === undefined ? undefined : await deps.users.find(accountId);
    const granted = result.reason === 'consent-granted';
    try {
      await deps.audit.append({
        correlationId: c.get('requestId'),
        event: 'authorization',
        ...(accountId === undefined ? {} : { principal: accountId }),
        ...(user ? { tenant: user.tenant } : {}),
        clientId: String(d.params.client_id),
        decision: granted ? 'allow' : 'deny',
        reasons: [result.reason],
        ...(result.scopes?.length ? { scope: result.scopes.join(' ') } : {}),
        outcome: granted ? 'ok' : 'denied',
        latencyMs: 0,
        bytesIn: 0,
        bytesOut: 0,
      });
      return true;
    } catch (err) {
      deps.logger.error({ err, requestId: c.get('requestId') }, 'consent audit record failed');
      return false;
    }
  }

  const finishWithError = async (c: Context<Env>, description: string) =>
    c.redirect(
      await (
        await provider()
      ).interactionResult(
        c.env.incoming,
        c.env.outgoing,
        { error: 'access_denied', error_description: description },
        { mergeWithLastSubmission: false },
      ),
      303,
    );

  app.post('/oauth/interaction/:uid/confirm', async (c) => {
    const d = await details(c);
    if (!d || d.prompt.name !== 'consent' || !d.session?.accountId) return expired(c);
    const form = await c.req.parseBody();
    if (!deps.csrf.verify(c.req.header('cookie'), `interaction:${d.uid}`, form.csrf)) return forbidden(c);
    // What is granted comes from the interaction oidc-provider stored (already within the
    // person's role), never from the form: extra fields in a crafted POST change nothing.
    const pd = d.prompt.details as ConsentDetails;
    const scopes = consentScopes(pd);
    if (d.prompt.reasons.includes(BEYOND_ROLE_REASON) && scopes.length === 0) {
      // The page offered no Allow (the role allows nothing asked for); a forged one is a refusal.
      await recordConsent(c, d, { reason: 'consent-refused' });
      return finishWithError(c, 'The account’s role does not allow the requested access.');
    }
    const { Grant } = await provider();
    const grant = d.grantId
      ? await Grant.find(d.grantId)
      : new Grant({ accountId: d.session.accountId, clientId: String(d.params.client_id) });
    if (!grant) return expired(c);
    if (pd.missingOIDCScope) grant.addOIDCScope(pd.missingOIDCScope.join(' '));
    if (pd.missingOIDCClaims) grant.addOIDCClaims(pd.missingOIDCClaims);
    for (const [indicator, resourceScopes] of Object.entries(pd.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, resourceScopes.join(' '));
    }
    // The record is committed before the grant exists, so no consent is given unrecorded.
    if (!(await recordConsent(c, d, { reason: 'consent-granted', scopes }))) {
      const unavailable = errorPage(
        'Please try again',
        'Your answer could not be saved just now. Go back to the app and try again in a moment.',
        503,
        c.get('requestId'),
      );
      unavailable.headers.set('retry-after', '5');
      return unavailable;
    }
    const grantId = await grant.save();
    const returnTo = await (
      await provider()
    ).interactionResult(c.env.incoming, c.env.outgoing, {
      consent: d.grantId ? {} : { grantId },
    });
    return c.redirect(returnTo, 303);
  });

  app.post('/oauth/interaction/:uid/abort', async (c) => {
    const d = await details(c);
    if (!d) return expired(c);
    const form = await c.req.parseBody();
    if (!deps.csrf.verify(c.req.header('cookie'), `interaction:${d.uid}`, form.csrf)) return forbidden(c);
    // Cancelling at the login page is no consent decision; at the consent page it is.
    if (d.prompt.name === 'consent') await recordConsent(c, d, { reason: 'consent-declined' });
    return finishWithError(c, 'The person declined the request.');
  });

  return app;
}
