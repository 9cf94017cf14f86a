import {
  decidePins,
  diffDefinitions,
  loadObserved,
  loadPins,
  pinReport,
  type Lockfile,
  type ObservedFile,
  type PinRow,
} from '../../pins/index.js';
import { html, type SafeHtml } from '../../ui/index.js';
import { highlightFindings } from '../highlight.js';
import {
  badge,
  consolePage,
  Forms,
  notice,
  recordAction,
  type ConsoleContext,
  type ConsoleDeps,
} from '../kit.js';

/** The pins and observations as the store holds them now (what every replica serves from). */
async function pinState(deps: ConsoleDeps): Promise<{ lock: Lockfile; observed: ObservedFile }> {
  return { lock: (await loadPins(deps.pins)).lock, observed: await loadObserved(deps.pins) };
}

/** Every pinned item (the same report as `portcullis pins list`). */
export async function pinRows(deps: ConsoleDeps): Promise<PinRow[]> {
  const { lock, observed } = await pinState(deps);
  return pinReport(lock, observed);
}

/** A line break inside a <pre> (a template's own line breaks are the source's layout). */
const NL = '\n';

/** The approved and the new definition side by side; the new one with the detector's findings marked. */
function sideBySide(state: { lock: Lockfile; observed: ObservedFile }, row: PinRow): SafeHtml {
  const { lock, observed } = state;
  const before = lock.upstreams[row.upstream]?.approved[row.key]?.definition;
  const after = observed.upstreams[row.upstream]?.items[row.key]?.definition;
  const lines = diffDefinitions(before, after);
  const left = lines.filter((l) => !l.startsWith('+ '));
  const right = lines.filter((l) => !l.startsWith('- '));
  const line = (l: string, side: 'old' | 'new') => {
    const text = l.slice(2);
    if (l.startsWith('- ')) return html`<del>${text}</del>${NL}`;
    if (l.startsWith('+ '))
      return html`<ins>${side === 'new' ? highlightFindings(text, 'tool-description') : text}</ins>${NL}`;
    return html`${text}${NL}`;
  };
  return html`<div class="diff">
    <div>
      <h3>Approved</h3>
      <pre class="block">
${before === undefined ? html`<em>nothing approved yet</em>` : left.map((l) => line(l, 'old'))}</pre>
    </div>
    <div>
      <h3>Listed now</h3>
      <pre class="block">${right.map((l) => line(l, 'new'))}</pre>
    </div>
  </div>`;
}

/** New and changed definitions, diffed side by side with findings marked; approve or reject each. */
export async function pinsPage(
  c: ConsoleContext,
  deps: ConsoleDeps,
  message?: SafeHtml,
  status?: number,
): Promise<Response> {
  const forms = new Forms(deps, c);
  const state = await pinState(deps);
  const rows = pinReport(state.lock, state.observed);
  const open = rows.filter((r) => r.state !== 'approved' && r.state !== 'removed');
  return consolePage(c, forms, {
    title: 'Pins',
    tab: '/admin/pins',
    ...(status ? { status } : {}),
    body: html`<h1>Pinned definitions</h1>
      <p class="lead">
        A new or changed tool, prompt or template of an upstream is blocked until someone approves it here or
        with <code>portcullis pins approve</code>.
      </p>
      ${message ?? ''}
      ${open.length === 0 ? html`<p class="empty">Nothing to review: every definition listed is approved.</p>` : ''}
      ${open.map((r) => {
        const action = `/admin/pins/${encodeURIComponent(r.upstream)}/${encodeURIComponent(r.key)}`;
        const rules = [...new Set((r.scan?.findings ?? []).map((f) => f.rule))];
        return html`<section class="tile">
          <div class="bar">
            <strong class="grow"><code>${r.upstream}</code> · <code>${r.key}</code></strong>
            ${badge(r.state)} ${r.scan ? badge(r.scan.verdict) : ''}
          </div>
          ${rules.length ? html`<div class="notice error" role="alert">The scan found: ${rules.join(', ')}${r.scan ? ` (${r.scan.verdict})` : ''}.</div>` : ''}
          ${sideBySide(state, r)}
          <form class="inline" method="post" action="${action}">
            ${forms.field(action)}
            <input type="hidden" name="hash" value="${r.hash ?? ''}" />
            <button class="primary small" type="submit" name="decision" value="approve">Approve</button>
            <button class="danger small" type="submit" name="decision" value="reject">Reject</button>
          </form>
        </section>`;
      })}
      <h2>All definitions</h2>
      ${
        rows.length === 0
          ? html`<p class="fine">No upstream definitions observed or approved yet.</p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Upstream</th>
                  <th>Item</th>
                  <th>State</th>
                  <th>Approved</th>
                </tr>
              </thead>
              <tbody>
                ${rows.map(
                  (r) =>
                    html`<tr>
                      <td><code>${r.upstream}</code></td>
                      <td><code>${r.key}</code></td>
                      <td>${badge(r.state)}</td>
                      <td class="mono">${r.approvedAt ?? '—'}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}

export async function decidePin(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const decision = c.get('consoleForm').decision;
  const upstream = c.req.param('upstream') ?? '';
  const key = c.req.param('key') ?? '';
  if (decision !== 'approve' && decision !== 'reject') {
    return pinsPage(c, deps, notice('error', 'Choose approve or reject.'), 400);
  }
  const row = (await pinRows(deps)).find(
    (r) => r.upstream === upstream && r.key === key && r.state !== 'removed',
  );
  if (!row) return pinsPage(c, deps, notice('error', `${upstream} does not list ${key} now.`), 409);
  await recordAction(deps, c, {
    reason: decision === 'approve' ? 'pin-approved' : 'pin-rejected',
    upstream,
    details: { items: [key] },
  });
  // The decision is about the definition the page showed: if another replica's observation
  // replaced it since, nothing is decided and the page shows the new one.
  const shown = c.get('consoleForm').hash ?? '';
  const result = await decidePins(deps.pins, decision, upstream, key, deps.now(), shown);
  if (!result.ok) {
    return result.problem === 'changed'
      ? pinsPage(
          c,
          deps,
          notice('error', `${upstream} ${key} changed since the page was shown; review it again.`),
          409,
        )
      : pinsPage(c, deps, notice('error', `${upstream} does not list ${key} now.`), 409);
  }
  return pinsPage(
    c,
    deps,
    notice(
      'ok',
      `${decision === 'approve' ? 'Approved' : 'Rejected'} ${upstream} ${key}; every gateway applies it within a second.`,
    ),
  );
}
