import { describeCall } from '../../approvals/index.js';
import { html } from '../../ui/index.js';
import { badge, consolePage, Forms, iso, type ConsoleContext, type ConsoleDeps } from '../kit.js';

/**
 * Pending confirmations across people, and the recent history. An admin sees every one; only the
 * person a call belongs to can decide it, on its approval page (/approvals/<id>), which is why
 * this page links there only for the admin's own calls and has no approve button of its own.
 */
export async function approvalsPage(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const forms = new Forms(deps, c);
  const user = c.get('consoleUser');
  const now = deps.now();
  const pending = await deps.confirmations.listApprovals({ pending: true, now, limit: 200 });
  const history = (await deps.confirmations.listApprovals({ pending: false, now, limit: 100 })).filter(
    (a) => a.status !== 'pending' || a.expiresAt <= now,
  );
  const described = await Promise.all(pending.map((a) => describeCall(a, deps.notes, deps.toolNamed)));
  return consolePage(c, forms, {
    title: 'Approvals',
    tab: '/admin/approvals',
    body: html`<h1>Approvals</h1>
      <p class="lead">
        Calls waiting for their person to approve them. You can see every one; each person decides only their
        own, on the approval page their app showed them.
      </p>
      ${
        pending.length === 0
          ? html`<p class="empty">Nothing is waiting for approval.</p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Person</th>
                  <th>Tool</th>
                  <th>What it will do</th>
                  <th>App</th>
                  <th>Asked</th>
                  <th>Expires</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${pending.map(
                  (a, i) =>
                    html`<tr>
                      <td>${a.subject}</td>
                      <td>
                        <code>${a.tool}</code
                        >${a.upstream ? html` <span class="fine">(${a.upstream})</span>` : ''}
                      </td>
                      <td>${described[i]?.summary ?? html`<span class="fine">—</span>`}</td>
                      <td>${a.clientId ?? 'API key'}</td>
                      <td class="mono">${iso(a.createdAt)}</td>
                      <td class="mono">${iso(a.expiresAt)}</td>
                      <td>
                        ${
                          a.subject === user.name && a.tenant === user.tenant
                            ? html`<a
                                class="button primary small"
                                href="${new URL(`/approvals/${a.id}`, deps.publicUrl).href}"
                                >Review</a
                              >`
                            : html`<span class="fine">for ${a.subject} to decide</span>`
                        }
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>History</h2>
      ${
        history.length === 0
          ? html`<p class="fine">No decided or expired approvals are kept (they are purged a day after).</p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Person</th>
                  <th>Tool</th>
                  <th>Status</th>
                  <th>Asked</th>
                  <th>Decided</th>
                </tr>
              </thead>
              <tbody>
                ${history.map(
                  (a) =>
                    html`<tr>
                      <td>${a.subject}</td>
                      <td><code>${a.tool}</code></td>
                      <td>${badge(a.status === 'pending' ? 'expired' : a.status)}</td>
                      <td class="mono">${iso(a.createdAt)}</td>
                      <td class="mono">${iso(a.decidedAt)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}
