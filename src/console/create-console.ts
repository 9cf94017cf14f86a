import { Hono, type MiddlewareHandler } from 'hono';
import type { SignInForm } from '../signin/index.js';
import { csrfRefusedPage, errorPage } from '../ui/index.js';
import { FORM_BODY_LIMIT, readFormBody } from '../wire/index.js';
import { formPurpose, recordAction, type ConsoleDeps, type ConsoleEnv } from './kit.js';
import { approvalsPage } from './pages/approvals.js';
import { auditExport, auditSearchPage, chainStatus } from './pages/audit-search.js';
import { overviewPage } from './pages/overview.js';
import {
  addPerson,
  createKey,
  disablePerson,
  peoplePage,
  resetLink,
  revokeClientAction,
  revokeKey,
  rotateKey,
} from './pages/people.js';
import { decidePin, pinsPage } from './pages/pins.js';
import { decideQuarantine, quarantinePage } from './pages/quarantine.js';
import { recordPage } from './pages/record.js';
import { restartUpstream, upstreamsPage } from './pages/upstreams.js';

/** The role the console is for. */
export const CONSOLE_ROLE = 'admin';

const LOGIN: SignInForm = {
  action: '/admin/login',
  purpose: 'console-login',
  lead: 'to open the operator console',
};

/**
 * The operator console at /admin: server-rendered pages in the sign-in pages' kit (no script;
 * the page CSP, `frame-ancestors 'none'` and `X-Frame-Options: DENY` on every answer).
 *
 * Every request passes two steps before its page, declared here once:
 *   1. `signedInAdmin`: a signed-in person (the one sign-in of every page) with the role
 *      `admin`. No session: the sign-in form. Any other role: 403, and the refusal is audited.
 *   2. `checkForm` (POST only): the body read within the form limit, and its CSRF token checked
 *      against the person and the exact path the form posts to; a refusal is audited.
 * Each action writes its audit record (event `admin`, the person as principal) before it
 * changes anything: a change whose record cannot be written does not happen.
 *
 * `/admin/audit` (the JSON API for API keys) is not the console's and passes through untouched.
 */
export function createConsole(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  const { sessions } = deps.signin;
  const isApi = (path: string) => path === '/admin/audit';

  const signedInAdmin: MiddlewareHandler<ConsoleEnv> = async function signedInAdmin(c, next) {
    if (isApi(c.req.path) || c.req.path === '/admin/login') return next();
    const user = await sessions.current(c.req.header('cookie'));
    if (!user) return c.req.method === 'GET' ? deps.signin.page(c, LOGIN) : c.redirect('/admin', 303);
    if (user.role !== CONSOLE_ROLE) {
      await recordAction(deps, c, {
        reason: 'console-denied',
        principal: user.name,
        tenant: user.tenant,
        decision: 'deny',
        outcome: 'denied',
        details: { method: c.req.method, path: c.req.path, role: user.role },
      });
      return errorPage(
        'Not allowed',
        'The console is for people with the admin role.',
        403,
        c.get('requestId'),
      );
    }
    c.set('consoleUser', user);
    return next();
  };

  const checkForm: MiddlewareHandler<ConsoleEnv> = async function checkForm(c, next) {
    if (c.req.method !== 'POST' || isApi(c.req.path) || c.req.path === '/admin/login') return next();
    const user = c.get('consoleUser');
    const body = await readFormBody(c.req.raw, FORM_BODY_LIMIT);
    const fields = body.ok ? body.fields : {};
    // The path as the browser sent it (still percent-encoded, as the form's action was written):
    // the router's decoded path would not match an action naming `a@b` or a pin key with a `/`.
    const action = new URL(c.req.url).pathname;
    if (!deps.signin.csrf.verify(c.req.header('cookie'), formPurpose(user, action), fields.csrf)) {
      await recordAction(deps, c, {
        reason: 'console-csrf-refused',
        decision: 'deny',
        outcome: 'denied',
        details: { path: action },
      });
      return csrfRefusedPage(c.get('requestId'));
    }
    c.set('consoleForm', fields);
    return next();
  };

  app.use('/admin', signedInAdmin, checkForm);
  app.use('/admin/*', signedInAdmin, checkForm);

  const status = chainStatus(deps);
  app.post('/admin/login', (c) =>
    deps.signin.submit(c, LOGIN, (_user, setCookie) => {
      c.header('set-cookie', setCookie);
      return c.redirect('/admin', 303);
    }),
  );
  app.post('/admin/logout', async (c) => {
    c.header('set-cookie', await sessions.end(c.req.header('cookie')));
    return c.redirect('/admin', 303);
  });

  app.get('/admin', (c) => overviewPage(c, deps));
  app.get('/admin/search', (c) => auditSearchPage(c, deps, status));
  app.get('/admin/search/export', (c) => auditExport(c, deps));
  app.get('/admin/records/:seq', (c) => recordPage(c, deps));
  app.get('/admin/approvals', (c) => approvalsPage(c, deps));
  app.get('/admin/quarantine', (c) => quarantinePage(c, deps));
  app.post('/admin/quarantine/:id', (c) => decideQuarantine(c, deps));
  app.get('/admin/pins', (c) => pinsPage(c, deps));
  app.post('/admin/pins/:upstream/:key', (c) => decidePin(c, deps));
  app.get('/admin/people', (c) => peoplePage(c, deps));
  app.post('/admin/people', (c) => addPerson(c, deps));
  app.post('/admin/people/:name/reset-link', (c) => resetLink(c, deps));
  app.post('/admin/people/:name/disable', (c) => disablePerson(c, deps));
  app.post('/admin/keys', (c) => createKey(c, deps));
  app.post('/admin/keys/:id/rotate', (c) => rotateKey(c, deps));
  app.post('/admin/keys/:id/revoke', (c) => revokeKey(c, deps));
  app.post('/admin/clients/:id/revoke', (c) => revokeClientAction(c, deps));
  app.get('/admin/upstreams', (c) => upstreamsPage(c, deps));
  app.post('/admin/upstreams/:name/restart', (c) => restartUpstream(c, deps));
  return app;
}
