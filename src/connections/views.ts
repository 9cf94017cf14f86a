import { html, type SafeHtml } from '../ui/index.js';
import type { ConnectionView } from './create-connections.js';

/** The state of one connection in the person's words. */
export function stateText(v: ConnectionView): string {
  const c = v.connection;
  if (!c) return 'Not connected';
  switch (c.state) {
    case 'connected':
      return c.upstreamSubject ? `Connected as ${c.upstreamSubject}` : 'Connected';
    case 'expired':
      return 'Expired: connect again';
    case 'broken':
      return `Broken${c.brokenReason ? `: ${c.brokenReason}` : ''} Connect again`;
  }
}

function actions(v: ConnectionView, csrf: string): SafeHtml {
  const name = encodeURIComponent(v.upstream);
  const c = v.connection;
  const disconnect = c
    ? html`<form method="post" action="/account/connections/${encodeURIComponent(c.id)}/disconnect">
        <input type="hidden" name="csrf" value="${csrf}" />
        <button class="danger" type="submit" aria-label="Disconnect ${v.upstream}">Disconnect</button>
      </form>`
    : '';
  const verb = c ? 'Reconnect' : 'Connect';
  if (v.mode === 'person-secret') {
    return html`<form method="post" action="/account/connections/${name}/secret">
        <input type="hidden" name="csrf" value="${csrf}" />
        <label for="secret-${v.upstream}">Paste ${v.label}</label>
        <input
          id="secret-${v.upstream}"
          type="password"
          name="secret"
          autocomplete="off"
          spellcheck="false"
          required
        />
        <div class="actions">
          <button class="primary" type="submit" aria-label="${verb} ${v.upstream}">${verb}</button>
        </div>
        <p class="fine">
          Kept encrypted on this gateway and used only for your calls. It is never shown again.
        </p>
      </form>
      ${disconnect}`;
  }
  return html`<form method="post" action="/account/connections/${name}/connect">
      <input type="hidden" name="csrf" value="${csrf}" />
      <button class="primary" type="submit" aria-label="${verb} ${v.upstream}">${verb}</button>
    </form>
    ${disconnect}`;
}

export function connectionsView(opts: {
  user: string;
  csrf: string;
  items: readonly ConnectionView[];
  notice?: { kind: 'ok' | 'error'; text: string };
}): SafeHtml {
  return html`<h1>Your accounts on other services</h1>
    <p class="lead">
      Signed in as <strong>${opts.user}</strong>. Tools of these servers act with your own account there,
      never with anyone else's.
    </p>
    ${opts.notice ? html`<div class="notice ${opts.notice.kind}" role="status">${opts.notice.text}</div>` : ''}
    ${
      opts.items.length === 0
        ? html`<p class="empty">No server here needs your own account.</p>`
        : html`<table class="apps">
            <thead>
              <tr>
                <th>Server</th>
                <th>Access</th>
                <th>State</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${opts.items.map(
                (v) =>
                  html`<tr>
                    <td><strong>${v.upstream}</strong></td>
                    <td>
                      ${
                        v.scopes.length === 0
                          ? html`<div>${v.label}</div>`
                          : v.scopes.map(
                              (s) => html`<div>${s.text} <code class="mono">${s.scope}</code></div>`,
                            )
                      }
                    </td>
                    <td data-state="${v.connection?.state ?? 'none'}">${stateText(v)}</td>
                    <td>${actions(v, opts.csrf)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}

/** Between the Connect button and the upstream's sign-in page, when the page CSP cannot name that origin. */
export function continueView(upstream: string, url: string): SafeHtml {
  const host = new URL(url).host;
  return html`<h1>Connect ${upstream}</h1>
    <p class="lead">You are going to <strong>${host}</strong> to sign in and allow access.</p>
    <div class="actions"><a class="button primary" href="${url}">Continue to ${host}</a></div>`;
}
