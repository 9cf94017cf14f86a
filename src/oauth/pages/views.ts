import { revealHiddenText } from '../../safety/index.js';
import { html, type SafeHtml } from '../../ui/index.js';
import type { GrantSummary } from '../store/index.js';
import type { ScopeDescription } from './describe-scopes.js';

/** How the person sees the app asking: its (self-asserted) name and where answers go. */
export interface ClientView {
  readonly name: string;
  /** The host (or scheme, for native apps) the answer is sent to. */
  readonly redirectHost: string;
  /** True when the name comes from a document at the client_id URL's own host. */
  readonly verifiedHost?: string;
}

/**
 * An app's name as the pages show it. The name is the registrant's own word: bidi controls in it
 * would reorder the sentence around it ("<name> wants to act for <person>"), invisible characters
 * make two names look alike. Every hidden character is shown by name (as on the approval page),
 * and `<bdi>` keeps right-to-left text in the name from reordering what follows.
 */
const appName = (name: string): SafeHtml => html`<bdi>${revealHiddenText(name)}</bdi>`;

const initial = (name: string) => (revealHiddenText(name).trim()[0] ?? '?').toUpperCase();

export function clientCard(client: ClientView): SafeHtml {
  return html`<div class="client">
    <span class="avatar" aria-hidden="true">${initial(client.name)}</span>
    <div class="meta">
      <div class="title">${appName(client.name)}</div>
      <div class="sub">
        ${client.verifiedHost ? html`Published by ${client.verifiedHost} · ` : ''}Sends you back to
        <strong>${client.redirectHost}</strong>
      </div>
    </div>
  </div>`;
}

/** The scopes an app asked for that the person's role withholds: named, never offered. */
function withheldList(withheld: readonly ScopeDescription[]): SafeHtml | string {
  if (withheld.length === 0) return '';
  return html`<div class="notice held" role="status">
      Your role does not allow ${withheld.length === 1 ? 'this permission' : 'these permissions'}, so the app
      will not get ${withheld.length === 1 ? 'it' : 'them'}:
    </div>
    <ul class="scopes withheld">
      ${withheld.map(
        (s) =>
          html`<li>
            <div class="what">${s.text}</div>
            <code>${s.scope}</code>
          </li>`,
      )}
    </ul>`;
}

export function consentView(opts: {
  action: string;
  abortAction: string;
  csrf: string;
  client: ClientView;
  account: string;
  scopes: readonly ScopeDescription[];
  withheld: readonly ScopeDescription[];
  /** Everything asked for is beyond the person's role: nothing to allow, only a way back. */
  nothingWithinRole: boolean;
}): SafeHtml {
  if (opts.nothingWithinRole) {
    // Nothing asked for is within the person's role: there is nothing to allow.
    return html`<h1>Nothing to allow</h1>
      <p class="lead">
        <strong>${appName(opts.client.name)}</strong> asked to act for <strong>${opts.account}</strong>, but
        your account has no permission it asked for.
      </p>
      ${clientCard(opts.client)} ${withheldList(opts.withheld)}
      <p>If you need this access, ask the administrator of this gateway to change your role.</p>
      <form method="post" action="${opts.abortAction}">
        <input type="hidden" name="csrf" value="${opts.csrf}" />
        <div class="actions"><button class="primary grow" type="submit">Return to the app</button></div>
      </form>`;
  }
  return html`<h1>Allow access?</h1>
    <p class="lead">
      <strong>${appName(opts.client.name)}</strong> wants to act for <strong>${opts.account}</strong>.
    </p>
    ${clientCard(opts.client)}
    <p>It will be able to:</p>
    <ul class="scopes">
      ${opts.scopes.map(
        (s) =>
          html`<li>
            <div class="what">${s.text}</div>
            <code>${s.scope}</code>
          </li>`,
      )}
    </ul>
    ${withheldList(opts.withheld)}
    <form method="post" action="${opts.action}">
      <input type="hidden" name="csrf" value="${opts.csrf}" />
      <div class="actions">
        <button class="primary grow" type="submit">Allow</button>
        <button class="secondary grow" type="submit" formaction="${opts.abortAction}">Deny</button>
      </div>
    </form>
    <p class="fine">
      ${opts.client.verifiedHost ? '' : 'Portcullis has not verified this app’s name; check where it sends you back to. '}You
      can disconnect it at any time under Connected apps.
    </p>`;
}

export function connectedAppsView(opts: {
  user: string;
  csrf: string;
  notice?: string;
  apps: readonly (GrantSummary & { name: string; scopeText: readonly ScopeDescription[] })[];
}): SafeHtml {
  return html`<h1>Connected apps</h1>
    <p class="lead">
      Apps that can act for <strong>${opts.user}</strong>. Disconnecting one stops it at its next request.
    </p>
    ${opts.notice ? html`<div class="notice ok" role="status">${opts.notice}</div>` : ''}
    ${
      opts.apps.length === 0
        ? html`<p class="empty">No apps are connected.</p>`
        : html`<table class="apps">
            <thead>
              <tr>
                <th>App</th>
                <th>Can</th>
                <th>Since</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${opts.apps.map(
                (a) =>
                  html`<tr>
                    <td>
                      <strong>${appName(a.name)}</strong>
                      <div class="mono">${a.clientId}</div>
                    </td>
                    <td>${a.scopeText.map((s) => html`<div>${s.text}</div>`)}</td>
                    <td>${a.createdAt.toISOString().slice(0, 10)}</td>
                    <td>
                      <form method="post" action="/account/apps/${encodeURIComponent(a.id)}/revoke">
                        <input type="hidden" name="csrf" value="${opts.csrf}" />
                        <button
                          class="danger"
                          type="submit"
                          aria-label="Disconnect ${revealHiddenText(a.name)}"
                        >
                          Disconnect
                        </button>
                      </form>
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}

export function accountNav(csrf: string): SafeHtml {
  return html`<a href="/account">Connected apps</a>
    <a href="/account/connections">Your accounts</a>
    <form method="post" action="/account/logout">
      <input type="hidden" name="csrf" value="${csrf}" /><button class="secondary" type="submit">
        Sign out
      </button>
    </form>`;
}
