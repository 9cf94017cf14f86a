import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { AuditEntry } from '../audit/index.js';
import { addressKey } from '../ratelimit/index.js';
import { FORM_BODY_LIMIT, readFormBody } from '../wire/index.js';
import {
  createCsrf,
  csrfRefusedPage,
  errorPage,
  pageResponse,
  type CookiePolicy,
  type Csrf,
} from '../ui/index.js';
import type { SharedState } from '../shared-state/index.js';
import {
  createLoginThrottle,
  createSharedLoginThrottle,
  type LoginThrottle,
  type ThrottlePolicy,
  type UserRecord,
  type UserStore,
} from '../users/index.js';
import { checkPasswordLogin, loginFailureMessage, type PasswordLoginResult } from './check-password.js';
import { loginView, type LoginViewOptions } from './login-view.js';
import { createSessions, type Sessions } from './sessions.js';

/** The login throttle's settings (`oauth.login` in the configuration). */
export interface LoginLimits {
  readonly maxFailuresPerAccount: number;
  readonly maxFailuresPerAddress: number;
  readonly windowSeconds: number;
  readonly lockoutSeconds: number;
}

export interface SignInDeps {
  readonly users: UserStore;
  readonly limits: LoginLimits;
  /** The key CSRF tokens are MACed under (the newest cookie key). */
  readonly csrfKey: string;
  readonly cookies: CookiePolicy;
  readonly clientAddress: (c: Context) => string;
  /** Appends to the audit chain; undefined when the audit log is off. */
  readonly audit: ((entry: AuditEntry) => Promise<void>) | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Redis, when replicas share throttles; without it the throttle counts in this process. */
  readonly sharedState?: SharedState | undefined;
}

/**
 * A throttle named `name`: shared by every replica through Redis when there is one (a guesser
 * spreading attempts over replicas still has one budget), else this process's own.
 */
export function openLoginThrottle(
  policy: ThrottlePolicy,
  name: string,
  deps: { sharedState?: SharedState | undefined; logger: Logger },
): LoginThrottle {
  if (!deps.sharedState) return createLoginThrottle(policy);
  return createSharedLoginThrottle(policy, deps.sharedState, name, (err) =>
    deps.logger.debug({ err: err.message, throttle: name }, 'redis unavailable; throttle counts per replica'),
  );
}

/** One page's sign-in form: where it posts, what it is for, and what it shows around it. */
export interface SignInForm extends Omit<LoginViewOptions, 'csrf' | 'error' | 'name'> {
  /** The CSRF purpose of this form (e.g. `interaction:<uid>`); a token works for one form only. */
  readonly purpose: string;
  /** Origins the form's answer may end at (the page CSP's `form-action`). */
  readonly formTargets?: readonly string[];
  /** The OAuth client the person signs in for, recorded with the attempt. */
  readonly clientId?: string;
}

/**
 * How people sign in, for every page that has them do it: the OAuth authorization pages,
 * /account and /approvals. Built once at start-up, so there is one throttle (one budget of
 * failed guesses per account and per address, whichever page the guesses arrive on), one
 * session cookie, one CSRF secret, one form and one POST handler; and every attempt, local or
 * federated, lands in the audit chain as an `authentication` event.
 */
export interface SignIn {
  readonly csrf: Csrf;
  readonly sessions: Sessions;
  /** The sign-in page of `form`, with the error and typed name of a failed attempt. */
  page(c: Context, form: SignInForm, failed?: { error: string; name: string }): Response;
  /**
   * The POST handler of `form`: reads the body (capped), checks the CSRF token, the throttle
   * and the password, records the attempt, and on success starts the session and lets the
   * page finish (`done` gets the session's Set-Cookie).
   */
  submit(
    c: Context,
    form: SignInForm,
    done: (user: UserRecord, setCookie: string) => Response | Promise<Response>,
  ): Promise<Response>;
  /** A sign-in made at the identity provider: recorded, then its session is started. */
  federated(c: Context, user: UserRecord): Promise<string>;
  /** A federated sign-in that was refused, recorded with its private reason. */
  federationRefused(c: Context, reason: string): Promise<void>;
}

/** The private reason of a failed attempt, kept in the audit record's `errorCode`. */
const FAILURE_CODE = {
  'login-failed': 'wrong-credentials',
  'login-throttled': 'login-throttled',
  'login-disabled': 'account-disabled',
} as const satisfies Record<Exclude<PasswordLoginResult, { ok: true }>['reason'], string>;

const requestIdOf = (c: Context): string => String(c.get('requestId'));

export function createSignIn(deps: SignInDeps): SignIn {
  const csrf = createCsrf(deps.csrfKey, deps.cookies);
  const sessions = createSessions({ users: deps.users, policy: deps.cookies, now: deps.now });
  const throttle = openLoginThrottle(
    {
      maxFailuresPerAccount: deps.limits.maxFailuresPerAccount,
      maxFailuresPerAddress: deps.limits.maxFailuresPerAddress,
      windowMs: deps.limits.windowSeconds * 1000,
      lockoutMs: deps.limits.lockoutSeconds * 1000,
    },
    'login',
    deps,
  );

  /**
   * Writes the attempt to the audit chain. A sign-in whose record cannot be written does not
   * happen: the error reaches the app's error handler (500) before any session is started.
   */
  const record = async (
    c: Context,
    started: number,
    fields: Pick<AuditEntry, 'decision' | 'outcome' | 'reasons'> &
      Partial<Pick<AuditEntry, 'principal' | 'tenant' | 'clientId' | 'errorCode'>>,
  ) =>
    deps.audit?.({
      correlationId: requestIdOf(c),
      event: 'authentication',
      authMethod: 'none',
      latencyMs: Date.now() - started,
      bytesIn: 0,
      bytesOut: 0,
      ...fields,
    });

  function page(c: Context, form: SignInForm, failed?: { error: string; name: string }): Response {
    const { token, setCookie } = csrf.issue(c.req.header('cookie'), form.purpose);
    return pageResponse(
      {
        title: 'Sign in',
        status: failed ? 401 : 200,
        ...(form.formTargets ? { formTargets: form.formTargets } : {}),
        body: loginView({
          action: form.action,
          csrf: token,
          lead: form.lead,
          ...(form.context ? { context: form.context } : {}),
          ...(form.federated ? { federated: form.federated } : {}),
          ...(form.abortAction ? { abortAction: form.abortAction } : {}),
          ...(failed ? { error: failed.error, name: failed.name } : {}),
        }),
      },
      setCookie ? { 'set-cookie': setCookie } : {},
    );
  }

  return {
    csrf,
    sessions,
    page,

    async submit(c, form, done) {
      const started = Date.now();
      const body = await readFormBody(c.req.raw, FORM_BODY_LIMIT);
      if (!body.ok) {
        return errorPage('Request refused', 'This form was too large to read.', 413, requestIdOf(c));
      }
      const { fields } = body;
      if (!csrf.verify(c.req.header('cookie'), form.purpose, fields.csrf)) {
        return csrfRefusedPage(requestIdOf(c));
      }
      const name = (fields.name ?? '').trim().slice(0, 200);
      const result = await checkPasswordLogin(
        // The address's guess budget is its /64 (IPv6) or its IPv4 address, however spelled.
        { name, password: fields.password ?? '', address: addressKey(deps.clientAddress(c)) },
        { users: deps.users, throttle, now: deps.now() },
      );
      const client = form.clientId ? { clientId: form.clientId } : {};
      if (!result.ok) {
        deps.logger.info({ reason: result.reason, requestId: requestIdOf(c) }, 'sign-in refused');
        await record(c, started, {
          // The name as typed: who the guesses are aimed at is what an investigator needs.
          ...(name ? { principal: name.toWellFormed() } : {}),
          ...client,
          decision: 'deny',
          outcome: 'denied',
          reasons: ['login-failed'],
          errorCode: FAILURE_CODE[result.reason],
        });
        return page(c, form, { error: loginFailureMessage(result), name });
      }
      await record(c, started, {
        principal: result.user.name,
        tenant: result.user.tenant,
        ...client,
        decision: 'allow',
        outcome: 'ok',
        reasons: ['login-succeeded'],
      });
      return done(result.user, await sessions.start(result.user));
    },

    async federated(c, user) {
      await record(c, Date.now(), {
        principal: user.name,
        tenant: user.tenant,
        decision: 'allow',
        outcome: 'ok',
        reasons: ['login-succeeded'],
      });
      return sessions.start(user);
    },

    async federationRefused(c, reason) {
      await record(c, Date.now(), {
        decision: 'deny',
        outcome: 'denied',
        reasons: ['login-failed'],
        errorCode: reason,
      });
    },
  };
}
