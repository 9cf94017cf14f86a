import { html } from '../../ui/index.js';
import { badge, consolePage, Forms, type ConsoleContext, type ConsoleDeps } from '../kit.js';

/** Each upstream's state as its supervisor sees it: transport, sandbox, circuit, restarts, last error. */
export async function upstreamsPage(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const forms = new Forms(deps, c);
  const upstreams = deps.upstreams.health();
  return consolePage(c, forms, {
    title: 'Upstreams',
    tab: '/admin/upstreams',
    body: html`<h1>Upstream servers</h1>
      <p class="lead">
        The MCP servers behind this gateway. A failing upstream is restarted with back-off by its supervisor;
        the gateway keeps serving everything else meanwhile.
      </p>
      ${
        upstreams.length === 0
          ? html`<p class="empty">
              No upstream servers are configured (<code>upstreams</code> in portcullis.yaml).
            </p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>State</th>
                  <th>Transport</th>
                  <th>Sandbox</th>
                  <th>Circuit</th>
                  <th>Restarts</th>
                  <th>Server</th>
                  <th>Last error</th>
                </tr>
              </thead>
              <tbody>
                ${upstreams.map(
                  (u) =>
                    html`<tr>
                      <td><code>${u.name}</code></td>
                      <td>${badge(u.state)}</td>
                      <td>${u.transport}</td>
                      <td>
                        ${u.transport === 'stdio' ? (u.sandboxed ? 'bubblewrap' : html`<span class="badge deny">none</span>`) : 'egress guard'}
                      </td>
                      <td>
                        ${u.consecutiveFailures > 0 ? html`<span class="badge deny">open · ${u.consecutiveFailures} failures</span>` : badge('closed')}
                      </td>
                      <td class="num">${u.restarts}</td>
                      <td>
                        ${u.server.name ?? '—'} ${u.server.version ?? ''}
                        <span class="fine">${u.server.protocolVersion ?? ''}</span>
                      </td>
                      <td>${u.lastError ?? '—'}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}
