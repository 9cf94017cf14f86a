import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import type { AuditEntry } from '../audit/index.js';
import { addressKey } from '../ratelimit/index.js';
import { csrfRefusedPage, errorPage, html, pageResponse } from '../ui/index.js';
import type { SharedState } from '../shared-state/index.js';
import {
  hashPassword,
  MIN_PASSWORD_LENGTH,
  SETUP_TOKEN_PATTERN,
  setupTokenHash,
  type UserStore,
} from '../users/index.js';
import { FORM_BODY_LIMIT, readFormBody } from '../wire/index.js';
import { openLoginThrottle, type LoginLimits, type SignIn } from './create-signin.js';

export interface SetupRouteDeps {
  readonly users: UserStore;
  readonly signin: SignIn;
  /** The budget of wrong links per address (the login throttle's numbers, `oauth.login`). */
  readonly limits: LoginLimits;
  readonly clientAddress: (c: Context) => string;
  readonly audit: ((entry: AuditEntry) => Promise<void>) | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Where an admin lands once their password is set: the console (its own listener, if any). */
  readonly consoleHome?: string;
  /** Redis, when replicas share the budget of wrong links. */
  readonly sharedState?: SharedState | undefined;
}

type Env = { Variables: { requestId: string } };

/**
 * `/setup/<token>`: where a person with a one-time setup link (the first run's `admin`, or
 * anyone given `portcullis users reset-link NAME`) sets their password.
 *
 * - The token is 256 random bits and stored only hashed; the link works once, for 15 minutes.
 *   It is used up (atomically) only when the password is set, so opening it twice is harmless.
 * - Every unknown, used or expired token counts against the address's budget (the login
 *   throttle's numbers): past it, the address is refused for the lockout before any lookup.
 * - The form carries a CSRF token bound to the link; the password is set, the link consumed and
 *   the change audited (`password-set`) before the person is signed in.
 */
export function createSetupRoutes(deps: SetupRouteDeps): Hono<Env> {
  const app = new Hono<Env>();
  const throttle = openLoginThrottle(
    {
      // One counter per address: a guesser can lock out only themselves, never a person's link.
      maxFailuresPerAccount: deps.limits.maxFailuresPerAddress,
      maxFailuresPerAddress: deps.limits.maxFailuresPerAddress,
      windowMs: deps.limits.windowSeconds * 1000,
      lockoutMs: deps.limits.lockoutSeconds * 1000,
    },
    'setup-link',
    deps,
  );
  const { csrf, sessions } = deps.signin;
  const purpose = (tokenHash: string) => `setup:${tokenHash}`;

  const record = (
    c: Context<Env>,
    fields: Pick<AuditEntry, 'decision' | 'outcome' | 'reasons'> & Partial<AuditEntry>,
  ) =>
    deps.audit?.({
      correlationId: c.get('requestId'),
      event: 'authentication',
      authMethod: 'none',
      latencyMs: 0,
      bytesIn: 0,
      bytesOut: 0,
      ...fields,
    });

  /** The link's person, or the refusal page (throttled, or a failed guess counted). */
  async function lookUp(c: Context<Env>): Promise<{ tokenHash: string; userName: string } | Response> {
    const address = addressKey(deps.clientAddress(c));
    const at = deps.now().getTime();
    const verdict = await throttle.check(address, address, at);
    if (!verdict.allowed) {
      const minutes = Math.max(1, Math.ceil(verdict.retryAfterMs / 60_000));
      return errorPage(
        'Too many attempts',
        `Too many wrong setup links. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
        429,
        c.get('requestId'),
      );
    }
    const token = c.req.param('token') ?? '';
    const tokenHash = SETUP_TOKEN_PATTERN.test(token) ? setupTokenHash(token) : '';
    const link = tokenHash ? await deps.users.findSetupLink(tokenHash, deps.now()) : undefined;
    const user = link && (await deps.users.find(link.userName));
    if (!link || !user || user.disabledAt || user.federatedIssuer) {
      await throttle.fail(address, address, at);
      await record(c, { decision: 'deny', outcome: 'denied', reasons: ['setup-link-refused'] });
      return errorPage(
        'Link not valid',
        'This setup link is unknown, already used or expired. Ask the operator for a new one (portcullis users reset-link NAME).',
        404,
        c.get('requestId'),
      );
    }
    // A good link is no failure: the attempt the check held is given back.
    await throttle.succeed(address, address);
    return { tokenHash, userName: user.name };
  }

  const consoleOrigin =
    deps.consoleHome !== undefined && URL.canParse(deps.consoleHome)
      ? new URL(deps.consoleHome).origin
      : undefined;

  function form(c: Context<Env>, link: { tokenHash: string; userName: string }, error?: string): Response {
    const { token, setCookie } = csrf.issue(c.req.header('cookie'), purpose(link.tokenHash));
    return pageResponse(
      {
        title: 'Set your password',
        status: error ? 400 : 200,
        // The answer redirects an admin to the console; on its own listener that is another
        // origin, and Chromium applies form-action to the redirect after a submission.
        ...(consoleOrigin ? { formTargets: [consoleOrigin] } : {}),
        body: html`<h1>Set your password</h1>
          <p class="lead">
            Choose the password for <strong>${link.userName}</strong>. This link works once, and only for a
            few minutes.
          </p>
          ${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
          <form method="post" action="${c.req.path}">
            <input type="hidden" name="csrf" value="${token}" />
            <input type="text" name="name" value="${link.userName}" autocomplete="username" hidden readonly />
            <label for="password">New password</label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="new-password"
              minlength="${MIN_PASSWORD_LENGTH}"
              required
              autofocus
            />
            <label for="confirm">The same password again</label>
            <input id="confirm" name="confirm" type="password" autocomplete="new-password" required />
            <p class="fine">At least ${MIN_PASSWORD_LENGTH} characters.</p>
            <div class="actions">
              <button class="primary grow" type="submit">Set password and sign in</button>
            </div>
          </form>`,
      },
      setCookie ? { 'set-cookie': setCookie } : {},
    );
  }

  app.get('/setup/:token', async (c) => {
    const link = await lookUp(c);
    return link instanceof Response ? link : form(c, link);
  });

  app.post('/setup/:token', async (c) => {
    const link = await lookUp(c);
    if (link instanceof Response) return link;
    const body = await readFormBody(c.req.raw, FORM_BODY_LIMIT);
    if (!body.ok)
      return errorPage('Request refused', 'This form was too large to read.', 413, c.get('requestId'));
    const { fields } = body;
    if (!csrf.verify(c.req.header('cookie'), purpose(link.tokenHash), fields.csrf))
      return csrfRefusedPage(c.get('requestId'));
    const password = fields.password ?? '';
    if (password.length < MIN_PASSWORD_LENGTH || password.length > 1024)
      return form(c, link, `The password must be ${MIN_PASSWORD_LENGTH} to 1024 characters long.`);
    if (password !== fields.confirm) return form(c, link, 'The two passwords are not the same.');
    const passwordHash = await hashPassword(password);
    const now = deps.now();
    // Consumed first: of two submissions of one link, only one sets a password.
    const userName = await deps.users.useSetupLink(link.tokenHash, now);
    const user = userName && (await deps.users.find(userName));
    if (!user)
      return errorPage('Link not valid', 'This setup link was used meanwhile.', 409, c.get('requestId'));
    await record(c, {
      principal: user.name,
      tenant: user.tenant,
      decision: 'allow',
      outcome: 'ok',
      reasons: ['password-set'],
    });
    await deps.users.setPassword(user.name, passwordHash);
    // Every older session of the account ends: whoever held the old password is out.
    await deps.users.deleteSessionsOf(user.name);
    await deps.users.recordLogin(user.name, now);
    deps.logger.info({ user: user.name }, 'password set through a setup link');
    c.header('set-cookie', await sessions.start(user));
    return c.redirect(user.role === 'admin' ? (deps.consoleHome ?? '/admin') : '/account', 303);
  });
  return app;
}
