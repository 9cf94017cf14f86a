import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { describeArgs, type AuditEntry, type JsonValue } from '../audit/index.js';
import { FORM_BODY_LIMIT, readFormBody } from '../wire/index.js';
import type { OAuthEnv as Env } from '../oauth/index.js';
import { revealHidden } from '../safety/index.js';
import type { SignIn, SignInForm } from '../signin/index.js';
import type { ConfirmationStore, NoteStore, PendingApproval } from '../storage/index.js';
import { csrfRefusedPage, errorPage, html, pageResponse, STYLESHEET, STYLESHEET_PATH } from '../ui/index.js';
import type { UserRecord } from '../users/index.js';
import { describeCall } from './describe-call.js';

export interface ApprovalPageDeps {
  readonly store: ConfirmationStore;
  /** The built-in notes, read to say what a `memory_delete` would delete. */
  readonly notes: NoteStore;
  /** Served tools by name (the catalogue), for an upstream tool's `approvalText`. */
  readonly toolNamed?: (
    name: string,
  ) => { readonly approvalText?: string; readonly upstream?: string } | undefined;
  /** The one sign-in of every page: same throttle, session cookie and form as /account. */
  readonly signin: SignIn;
  /** Appends the page's decision to the audit log; undefined when the log is off. */
  readonly audit:
    { readonly append: (entry: AuditEntry) => Promise<void>; readonly argsKey: Buffer } | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
}

const ID = /^apr_[A-Za-z0-9_-]{22}$/;

/**
 * The out-of-band approval page, `/approvals/<id>`: the person a pending call belongs to signs
 * in (the one sign-in of every page: same users, session cookie and throttle), sees
 * the tool, its server and the exact arguments, and approves or denies once.
 *
 * - The arguments are shown whole, never cut short, in logical order (no bidi reordering), with
 *   every hidden character (bidi controls, zero-width, tag characters…) named in a box: what
 *   the person approves is exactly what runs.
 *
 * - The link never signs anyone in; it names a pending call, nothing more.
 * - Only the local user whose name is the call's principal (API-key owner or OAuth subject), in
 *   the same tenant, sees it; to anyone else it reads exactly like an unknown link.
 * - Forms carry a CSRF token bound to the call and the person; pages are no-script, framed by
 *   nobody (`frame-ancestors 'none'`, `X-Frame-Options: DENY`) and never cached.
 * - pending → approved | denied happens once, before expiry; the client's retry uses it once.
 */
export function createApprovalRoutes(deps: ApprovalPageDeps): Hono<Env> {
  const app = new Hono<Env>();
  const notFound = (c: Context<Env>) =>
    errorPage(
      'Approval not found',
      'This approval link is unknown, or belongs to someone else. Ask the app to try the call again.',
      404,
      c.get('requestId'),
    );
  const forbidden = (c: Context<Env>) => csrfRefusedPage(c.get('requestId'));

  /** The approval, if it exists and belongs to this person. */
  async function find(c: Context<Env>, user: UserRecord): Promise<PendingApproval | undefined> {
    const id = c.req.param('id') ?? '';
    if (!ID.test(id)) return undefined;
    const a = await deps.store.getApproval(id);
    return a && a.subject === user.name && a.tenant === user.tenant ? a : undefined;
  }

  const { csrf, sessions } = deps.signin;
  const loginForm = (id: string): SignInForm => ({
    action: `/approvals/${id}/login`,
    purpose: `approval-login:${id}`,
    lead: 'to review a tool call an app wants to make for you',
  });

  app.get(STYLESHEET_PATH, (c) =>
    c.body(STYLESHEET, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
    }),
  );

  app.get('/approvals/:id', async (c) => {
    if (!ID.test(c.req.param('id'))) return notFound(c);
    const user = await sessions.current(c.req.header('cookie'));
    if (!user) return deps.signin.page(c, loginForm(c.req.param('id')));
    const a = await find(c, user);
    if (!a) return notFound(c);
    const now = deps.now();
    if (a.status !== 'pending' || a.expiresAt <= now) {
      const state =
        a.status === 'pending' ? 'expired' : a.status === 'used' ? 'already used' : `already ${a.status}`;
      return pageResponse({
        title: 'Nothing to approve',
        body: html`<h1>Nothing to approve</h1>
          <p class="lead">This call is ${state}. If you still want it, ask the app to make it again.</p>`,
      });
    }
    const { token, setCookie } = csrf.issue(c.req.header('cookie'), `approval:${a.id}:${user.name}`);
    const minutes = Math.max(1, Math.round((a.expiresAt.getTime() - now.getTime()) / 60_000));
    let args = a.args ?? '{}';
    try {
      args = JSON.stringify(JSON.parse(args), null, 2);
    } catch {
      // shown as stored
    }
    const shown = revealHidden(args);
    const described = await describeCall(a, deps.notes, deps.toolNamed);
    const hidden = shown.filter((p) => p.kind === 'hidden').length;
    return pageResponse(
      {
        title: 'Approve a tool call',
        wide: true,
        body: html`<h1>Approve this tool call?</h1>
          <p class="lead">
            An app acting for <strong>${user.name}</strong> wants to run a tool that needs your approval.
            Approve only if you asked for exactly this.
          </p>
          <ul class="scopes">
            <li>
              <div class="what">Tool</div>
              <code>${a.tool}</code>
            </li>
            <li>
              <div class="what">Server</div>
              ${a.upstream ? html`upstream server <code>${a.upstream}</code>` : 'built into Portcullis'}
            </li>
            ${
              a.clientId
                ? html`<li>
                    <div class="what">App</div>
                    <code>${a.clientId}</code>
                  </li>`
                : ''
            }
            ${described ? html`<li id="what-it-changes">${described.detail}</li>` : ''}
            <li>
              <div class="what">Arguments</div>
              ${
                hidden > 0
                  ? html`<div class="notice error" role="alert">
                      The arguments contain ${hidden} hidden character${hidden === 1 ? '' : 's'} (shown in
                      boxes). Hidden characters are a way to make text read differently from what it says.
                    </div>`
                  : ''
              }
              <pre class="call" id="arguments" dir="ltr">
${shown.map((p) => (p.kind === 'text' ? p.text : html`<span class="hidden-char">${p.label}</span>`))}</pre>
              <p class="fine">
                All ${args.length} characters, in the order they were sent (right-to-left text is not
                reordered).
              </p>
            </li>
          </ul>
          <p class="fine">
            This request expires in ${minutes} minute${minutes === 1 ? '' : 's'}. Once decided, the app can
            run it once.
          </p>
          <form method="post" action="/approvals/${a.id}">
            <input type="hidden" name="csrf" value="${token}" />
            <div class="actions">
              <button class="primary grow" type="submit" name="decision" value="approve">Approve</button>
              <button class="danger grow" type="submit" name="decision" value="deny">Deny</button>
            </div>
          </form>`,
      },
      setCookie ? { 'set-cookie': setCookie } : {},
    );
  });

  app.post('/approvals/:id/login', async (c) => {
    const id = c.req.param('id');
    if (!ID.test(id)) return notFound(c);
    return deps.signin.submit(c, loginForm(id), (_user, setCookie) => {
      c.header('set-cookie', setCookie);
      return c.redirect(`/approvals/${id}`, 303);
    });
  });

  app.post('/approvals/:id', async (c) => {
    if (!ID.test(c.req.param('id'))) return notFound(c);
    const user = await sessions.current(c.req.header('cookie'));
    if (!user) return c.redirect(`/approvals/${c.req.param('id')}`, 303);
    const a = await find(c, user);
    if (!a) return notFound(c);
    const body = await readFormBody(c.req.raw, FORM_BODY_LIMIT);
    const form = body.ok ? body.fields : {};
    if (!csrf.verify(c.req.header('cookie'), `approval:${a.id}:${user.name}`, form.csrf)) return forbidden(c);
    if (form.decision !== 'approve' && form.decision !== 'deny') return forbidden(c);
    const approve = form.decision === 'approve';
    const at = deps.now();
    if (!(await deps.store.decideApproval(a.id, approve ? 'approved' : 'denied', at))) {
      return pageResponse({
        title: 'Nothing to approve',
        status: 409,
        body: html`<h1>Nothing to approve</h1>
          <p class="lead">This call was already decided, or it expired. Ask the app to make it again.</p>`,
      });
    }
    let args: JsonValue = {};
    try {
      args = JSON.parse(a.args ?? '{}') as JsonValue;
    } catch {
      // the hash is then of {}; the stored value was ours, so this does not happen
    }
    await deps.audit?.append({
      correlationId: c.get('requestId'),
      principal: a.subject,
      tenant: a.tenant,
      ...(a.clientId ? { clientId: a.clientId } : {}),
      authMethod: 'none',
      event: 'confirmation',
      tool: a.tool,
      ...(a.upstream ? { upstream: a.upstream } : {}),
      args: describeArgs(args, deps.audit.argsKey, { fullPayload: false }),
      decision: approve ? 'allow' : 'deny',
      reasons: [approve ? 'confirmation-accepted' : 'confirmation-declined'],
      outcome: approve ? 'ok' : 'denied',
      latencyMs: 0,
      bytesIn: 0,
      bytesOut: 0,
    });
    deps.logger.info({ approvalId: a.id, tool: a.tool, decision: form.decision }, 'pending call decided');
    return pageResponse({
      title: approve ? 'Approved' : 'Denied',
      body: html`<h1>${approve ? 'Approved' : 'Denied'}</h1>
        <div class="notice ${approve ? 'ok' : 'error'}" role="status">
          ${
            approve
              ? `You approved ${a.tool}. The app can now run this exact call once.`
              : `You denied ${a.tool}. It will not run.`
          }
        </div>
        <p class="fine">You can close this page.</p>`,
    });
  });

  return app;
}
