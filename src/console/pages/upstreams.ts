import { html, type SafeHtml } from '../../ui/index.js';
import {
  badge,
  consolePage,
  Forms,
  notice,
  recordAction,
  type ConsoleContext,
  type ConsoleDeps,
} from '../kit.js';

/** Each upstream's state as its supervisor sees it: transport, sandbox, circuit, restarts, last error. */
export async function upstreamsPage(
  c: ConsoleContext,
  deps: ConsoleDeps,
  banner?: SafeHtml,
  status?: number,
): Promise<Response> {
  const forms = new Forms(deps, c);
  const upstreams = deps.upstreams.health();
  return consolePage(c, forms, {
    title: 'Upstreams',
    tab: '/admin/upstreams',
    ...(status !== undefined ? { status } : {}),
    body: html`<h1>Upstream servers</h1>
      ${banner ?? ''}
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
                  <th></th>
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
                      <td>
                        <form class="inline" method="post" action="/admin/upstreams/${u.name}/restart">
                          ${forms.field(`/admin/upstreams/${u.name}/restart`)}
                          <button class="secondary small" type="submit">Restart</button>
                        </form>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}

/** Restarts one upstream now (connection and process), recorded first; an open circuit closes. */
export async function restartUpstream(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const name = c.req.param('name') ?? '';
  if (!deps.upstreams.health().some((u) => u.name === name))
    return upstreamsPage(c, deps, notice('error', 'There is no such upstream.'), 404);
  await recordAction(deps, c, { reason: 'upstream-restarted', upstream: name, details: { upstream: name } });
  await deps.upstreams.restart(name);
  const after = deps.upstreams.health().find((u) => u.name === name);
  return upstreamsPage(c, deps, notice('ok', `Restarted ${name}: now ${after?.state ?? 'unknown'}.`));
}
