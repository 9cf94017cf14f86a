import type { KeyObject } from 'node:crypto';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { AuditEntry, AuditLog, AuditStore, JsonValue } from '../audit/index.js';
import { describeArgs } from '../audit/index.js';
import type { OAuthStore } from '../oauth/index.js';
import type { SignIn } from '../signin/index.js';
import type {
  ApiKeyStore,
  ConfirmationStore,
  NoteStore,
  PinStore,
  QuarantineStore,
} from '../storage/index.js';
import { html, pageResponse, type SafeHtml } from '../ui/index.js';
import type { UpstreamHealth } from '../upstreams/index.js';
import type { UserRecord, UserStore } from '../users/index.js';

/** What the console reads and changes: the gateway's own stores, never copies of them. */
export interface ConsoleDeps {
  readonly signin: SignIn;
  readonly users: UserStore;
  readonly oauth: OAuthStore | undefined;
  readonly apiKeys: ApiKeyStore;
  readonly confirmations: ConfirmationStore;
  readonly quarantine: QuarantineStore;
  readonly notes: NoteStore;
  /** Served tools by name, for an upstream tool's `approvalText` on the approvals page. */
  readonly toolNamed?: (
    name: string,
  ) => { readonly approvalText?: string; readonly upstream?: string } | undefined;
  readonly audit: {
    readonly log: AuditLog;
    readonly store: AuditStore;
    readonly publicKey: KeyObject;
    readonly argsKey: Buffer;
  };
  readonly upstreams: { health(): readonly UpstreamHealth[]; restart(name: string): Promise<boolean> };
  readonly dataDir: string;
  /** The pins and the last observations (every running gateway polls its revision). */
  readonly pins: PinStore;
  /** Role names a person may be given (built-in and `policy.roles`). */
  readonly roles: readonly string[];
  /** The main listener's URL: where setup links and approval pages are (the console may have its own). */
  readonly publicUrl: URL;
  readonly logger: Logger;
  readonly now: () => Date;
}

export type ConsoleEnv = {
  Variables: {
    requestId: string;
    consoleUser: UserRecord;
    /** The verified fields of a console form (set by the CSRF check, POST only). */
    consoleForm: Readonly<Record<string, string>>;
  };
};
export type ConsoleContext = Context<ConsoleEnv>;

export const TABS = [
  ['/admin', 'Overview'],
  ['/admin/search', 'Audit'],
  ['/admin/approvals', 'Approvals'],
  ['/admin/quarantine', 'Quarantine'],
  ['/admin/pins', 'Pins'],
  ['/admin/people', 'People & keys'],
  ['/admin/upstreams', 'Upstreams'],
] as const;
export type Tab = (typeof TABS)[number][0];

/** The CSRF purpose of a console form: bound to the person and to the path it posts to. */
export const formPurpose = (user: UserRecord, action: string): string => `console:${user.name}:${action}`;

/**
 * Per-request form tokens: every form on a page gets the token of its own action, and the page
 * sets the CSRF cookie once if the browser had none.
 */
export class Forms {
  private setCookie: string | undefined;
  constructor(
    private readonly deps: ConsoleDeps,
    private readonly c: ConsoleContext,
  ) {}

  /** The hidden CSRF field of a form posting to `action`. */
  field(action: string): SafeHtml {
    const { token, setCookie } = this.deps.signin.csrf.issue(
      this.c.req.header('cookie'),
      formPurpose(this.c.get('consoleUser'), action),
    );
    this.setCookie ??= setCookie;
    return html`<input type="hidden" name="csrf" value="${token}" />`;
  }

  headers(): Record<string, string> {
    return this.setCookie ? { 'set-cookie': this.setCookie } : {};
  }
}

/** A console page: the tabs, who is signed in, a sign-out form, and the body. */
export function consolePage(
  c: ConsoleContext,
  forms: Forms,
  opts: { title: string; tab: Tab; body: SafeHtml; status?: number },
): Response {
  const user = c.get('consoleUser');
  const nav = html`<span class="mono">${user.name}</span>
    <form method="post" action="/admin/logout">
      ${forms.field('/admin/logout')}
      <button class="secondary small" type="submit">Sign out</button>
    </form>`;
  const body = html`<nav class="tabs" aria-label="Console">
      ${TABS.map(
        ([href, label]) =>
          html`<a
            href="${href}"
            class="${href === opts.tab ? 'on' : ''}"
            ${href === opts.tab ? html` aria-current="page"` : ''}
            >${label}</a
          >`,
      )}
    </nav>
    ${opts.body}`;
  return pageResponse(
    {
      title: `${opts.title} · Console`,
      console: true,
      nav,
      body,
      ...(opts.status ? { status: opts.status } : {}),
    },
    forms.headers(),
  );
}

/** One console action (or refusal) on the record: event `admin`, the person as principal. */
export async function recordAction(
  deps: ConsoleDeps,
  c: ConsoleContext,
  fields: {
    readonly reason: string;
    readonly decision?: 'allow' | 'deny';
    readonly outcome?: AuditEntry['outcome'];
    readonly details?: JsonValue;
    readonly principal?: string;
    readonly tenant?: string;
    readonly tool?: string;
    readonly upstream?: string;
    readonly credentialId?: string;
    readonly clientId?: string;
    readonly bytesOut?: number;
  },
): Promise<void> {
  const user = c.get('consoleUser') as UserRecord | undefined;
  const principal = fields.principal ?? user?.name;
  const tenant = fields.tenant ?? user?.tenant;
  await deps.audit.log.append({
    correlationId: c.get('requestId'),
    ...(principal ? { principal } : {}),
    ...(tenant ? { tenant } : {}),
    authMethod: 'none',
    event: 'admin',
    ...(fields.tool ? { tool: fields.tool } : {}),
    ...(fields.upstream ? { upstream: fields.upstream } : {}),
    ...(fields.credentialId ? { credentialId: fields.credentialId } : {}),
    ...(fields.clientId ? { clientId: fields.clientId } : {}),
    ...(fields.details !== undefined
      ? { args: describeArgs(fields.details, deps.audit.argsKey, { fullPayload: true }) }
      : {}),
    decision: fields.decision ?? 'allow',
    reasons: [fields.reason],
    outcome: fields.outcome ?? 'ok',
    latencyMs: 0,
    bytesIn: 0,
    bytesOut: fields.bytesOut ?? 0,
  });
}

export const iso = (d: Date | null | undefined): string =>
  d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '—';
export const shortTime = (t: string): string => t.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
export const badge = (value: string): SafeHtml => html`<span class="badge ${value}">${value}</span>`;
export const notice = (kind: 'ok' | 'error', text: string): SafeHtml =>
  html`<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</div>`;
