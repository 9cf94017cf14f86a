import type { QuarantineItem } from '../../storage/index.js';
import { html } from '../../ui/index.js';
import { highlightFindings } from '../highlight.js';
import {
  badge,
  consolePage,
  Forms,
  iso,
  notice,
  recordAction,
  type ConsoleContext,
  type ConsoleDeps,
} from '../kit.js';

const REASON_MAX = 500;

function findingRules(item: QuarantineItem): string[] {
  try {
    const parsed = JSON.parse(item.findings) as { rule?: unknown }[];
    return [...new Set(parsed.map((f) => String(f.rule)))];
  } catch {
    return [];
  }
}

/** The withheld result as text: its text parts, or the JSON when it has none. */
function resultText(item: QuarantineItem): string {
  if (item.result === null) return '';
  try {
    const parsed = JSON.parse(item.result) as { content?: { type?: string; text?: string }[] };
    const texts = (parsed.content ?? []).filter((p) => p.type === 'text' && typeof p.text === 'string');
    return texts.length ? texts.map((p) => p.text).join('\n\n') : JSON.stringify(parsed, null, 2);
  } catch {
    return item.result;
  }
}

/** Held outputs, findings highlighted; release or discard each with a reason (both audited). */
export async function quarantinePage(
  c: ConsoleContext,
  deps: ConsoleDeps,
  message?: ReturnType<typeof notice>,
  status?: number,
): Promise<Response> {
  const forms = new Forms(deps, c);
  const items = await deps.quarantine.list({ limit: 100 });
  const pending = items.filter((i) => i.status === 'pending');
  const decided = items.filter((i) => i.status !== 'pending');
  return consolePage(c, forms, {
    title: 'Quarantine',
    tab: '/admin/quarantine',
    ...(status ? { status } : {}),
    body: html`<h1>Quarantine</h1>
      <p class="lead">
        Tool results the injection detector withheld from the model. Release one to let the app ask for it
        again; discard it to delete its content.
      </p>
      ${message ?? ''} ${pending.length === 0 ? html`<p class="empty">Nothing is held.</p>` : ''}
      ${pending.map(
        (i) =>
          html`<section class="tile" id="${i.id}">
            <div class="bar">
              <strong class="grow"><code>${i.tool}</code> for ${i.principal}</strong>
              <span class="mono">${iso(i.createdAt)}</span> ${badge(i.status)}
            </div>
            <p class="fine">Findings: ${findingRules(i).join(', ') || 'none recorded'} · ${i.id}</p>
            <pre class="block">${highlightFindings(resultText(i), 'tool-output')}</pre>
            <form class="inline" method="post" action="/admin/quarantine/${i.id}">
              ${forms.field(`/admin/quarantine/${i.id}`)}
              <div>
                <label for="reason-${i.id}">Reason (recorded)</label>
                <input id="reason-${i.id}" name="reason" type="text" maxlength="${REASON_MAX}" required />
              </div>
              <button class="secondary small" type="submit" name="decision" value="release">Release</button>
              <button class="danger small" type="submit" name="decision" value="discard">Discard</button>
            </form>
          </section>`,
      )}
      <h2>Decided</h2>
      ${
        decided.length === 0
          ? html`<p class="fine">None yet.</p>`
          : html`<table class="grid">
              <thead>
                <tr>
                  <th>Id</th>
                  <th>Tool</th>
                  <th>Person</th>
                  <th>Status</th>
                  <th>Decided</th>
                </tr>
              </thead>
              <tbody>
                ${decided.map(
                  (i) =>
                    html`<tr>
                      <td class="mono">${i.id}</td>
                      <td><code>${i.tool}</code></td>
                      <td>${i.principal}</td>
                      <td>${badge(i.status)}</td>
                      <td class="mono">${iso(i.decidedAt)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  });
}

export async function decideQuarantine(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const form = c.get('consoleForm');
  const id = c.req.param('id') ?? '';
  const reason = (form.reason ?? '').trim();
  const decision = form.decision;
  if ((decision !== 'release' && decision !== 'discard') || !reason || reason.length > REASON_MAX) {
    const text = `Choose release or discard, and give a reason (up to ${REASON_MAX} characters).`;
    return quarantinePage(c, deps, notice('error', text), 400);
  }
  const item = await deps.quarantine.get(id);
  if (!item || item.status !== 'pending') {
    return quarantinePage(c, deps, notice('error', 'That result is not held any more.'), 409);
  }
  const status = decision === 'release' ? 'released' : 'discarded';
  // On the record before it happens: a decision whose record cannot be written is not made.
  await recordAction(deps, c, {
    reason: decision === 'release' ? 'quarantine-released' : 'quarantine-discarded',
    tool: item.tool,
    details: { id, principal: item.principal, reason },
  });
  if (!(await deps.quarantine.decide(id, status, deps.now()))) {
    return quarantinePage(c, deps, notice('error', 'That result was decided meanwhile.'), 409);
  }
  return quarantinePage(c, deps, notice('ok', `${status === 'released' ? 'Released' : 'Discarded'} ${id}.`));
}
