import { html } from '../../ui/index.js';
import { bucketRecords } from '../bucket-records.js';
import { sparkline, timelineChart } from '../charts.js';
import { badge, consolePage, Forms, type ConsoleContext, type ConsoleDeps } from '../kit.js';
import { pinRows } from './pins.js';

const HOUR = 3_600_000;
/** At most this many records feed the overview's counts (the newest of the last hour). */
const OVERVIEW_RECORDS = 20_000;

/**
 * The overview: the last hour at a glance. Counts come from the audit log itself (every call
 * leaves exactly one record), the queues from their stores, the upstreams from their supervisor.
 */
export async function overviewPage(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const now = deps.now().getTime();
  const since = now - HOUR;
  const records = await deps.audit.log.query({
    since: new Date(since).toISOString(),
    limit: OVERVIEW_RECORDS,
    newest: true,
  });
  const minutes = bucketRecords(records, since, now, 60);
  const calls = minutes.reduce((n, b) => n + b.calls, 0);
  const denials = minutes.reduce((n, b) => n + b.denials, 0);
  const limited = minutes.reduce((n, b) => n + b.rateLimited, 0);
  const quarantined = await deps.quarantine.list({ status: 'pending', limit: 1000 });
  const approvals = await deps.confirmations.listApprovals({ pending: true, now: deps.now(), limit: 1000 });
  const pins = (await pinRows(deps)).filter(
    (r) => r.state !== 'approved' && r.state !== 'removed' && r.state !== 'rejected',
  );
  const upstreams = deps.upstreams.health();
  const down = upstreams.filter((u) => u.state !== 'up');
  const alerts = records
    .filter((r) => r.event === 'tool-call' && (r.decision === 'deny' || r.decision === 'error'))
    .slice(-5)
    .reverse();
  const forms = new Forms(deps, c);
  const tile = (
    href: string,
    n: number,
    label: string,
    alert: boolean,
    chart?: ReturnType<typeof sparkline>,
  ) =>
    html`<div class="tile${alert ? ' alert' : ''}">
      <a href="${href}"
        ><div class="n">${n}</div>
        <div class="l">${label}</div></a
      >${chart ?? ''}
    </div>`;
  return consolePage(c, forms, {
    title: 'Overview',
    tab: '/admin',
    body: html`<h1>Overview</h1>
      <p class="lead">The last hour on this gateway. Every number links to the records behind it.</p>
      <div class="tiles">
        ${tile(
          '/admin/search?since=1h',
          Math.round((calls / 60) * 10) / 10,
          'calls per minute',
          false,
          sparkline(
            minutes.map((b) => b.calls),
            'calls',
          ),
        )}
        ${tile(
          '/admin/search?since=1h&decision=deny',
          denials,
          'denied calls',
          denials > 0,
          sparkline(
            minutes.map((b) => b.denials),
            'denials',
          ),
        )}
        ${tile(
          '/admin/search?since=1h&outcome=rate-limited',
          limited,
          'rate-limited',
          limited > 0,
          sparkline(
            minutes.map((b) => b.rateLimited),
            'denials',
          ),
        )}
        ${tile('/admin/quarantine', quarantined.length, 'quarantined outputs', quarantined.length > 0)}
        ${tile('/admin/approvals', approvals.length, 'pending approvals', approvals.length > 0)}
        ${tile('/admin/pins', pins.length, 'definitions to review', pins.length > 0)}
        ${tile('/admin/upstreams', upstreams.length - down.length, `of ${upstreams.length} upstreams up`, down.length > 0)}
      </div>
      ${timelineChart(bucketRecords(records, since, now, 30), { label: 'last hour, 2-minute slots' })}
      <h2>Upstream health</h2>
      ${
        upstreams.length === 0
          ? html`<p class="fine">
              No upstream servers are configured: the gateway serves its built-in tools.
            </p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Upstream</th>
                  <th>State</th>
                  <th>Restarts</th>
                  <th>Last error</th>
                </tr>
              </thead>
              <tbody>
                ${upstreams.map(
                  (u) =>
                    html`<tr>
                      <td><code>${u.name}</code></td>
                      <td>${badge(u.state)}</td>
                      <td class="num">${u.restarts}</td>
                      <td>${u.lastError ?? '—'}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>Recent denials and errors</h2>
      ${
        alerts.length === 0
          ? html`<p class="fine">None in the last hour.</p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Person</th>
                  <th>Tool</th>
                  <th>Decision</th>
                  <th>Reasons</th>
                </tr>
              </thead>
              <tbody>
                ${alerts.map(
                  (r) =>
                    html`<tr>
                      <td><a href="/admin/records/${r.seq}">${r.time.slice(11, 19)}</a></td>
                      <td>${r.principal ?? '—'}</td>
                      <td><code>${r.tool ?? '—'}</code></td>
                      <td>${badge(r.decision)}</td>
                      <td class="mono">${r.reasons.join(', ')}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}
