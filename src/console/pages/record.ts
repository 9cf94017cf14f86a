import { revealHidden } from '../../safety/index.js';
import { html, type SafeHtml } from '../../ui/index.js';
import {
  badge,
  consolePage,
  Forms,
  recordAction,
  shortTime,
  type ConsoleContext,
  type ConsoleDeps,
} from '../kit.js';

/** Text shown in logical order, with every hidden character named in a box (as on approvals). */
export function shownText(text: string): SafeHtml {
  return html`${revealHidden(text).map((p) => (p.kind === 'text' ? p.text : html`<span class="hidden-char">${p.label}</span>`))}`;
}

/**
 * One record: who, what, the decision and its reasons, latency, the arguments as recorded (a keyed
 * hash and shape; the payload only for tools whose payload logging was opted into, redacted when
 * written), and its position in the chain.
 */
export async function recordPage(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const forms = new Forms(deps, c);
  const seq = Number(c.req.param('seq'));
  const [r] = Number.isSafeInteger(seq) && seq > 0 ? await deps.audit.store.readFrom(seq, 1) : [];
  if (!r || r.seq !== seq) {
    return consolePage(c, forms, {
      title: 'Record',
      tab: '/admin/search',
      status: 404,
      body: html`<h1>No such record</h1>
        <p class="lead">There is no audit record with that number (it may have been pruned).</p>`,
    });
  }
  await recordAction(deps, c, { reason: 'admin-read', details: { view: 'record', seq } });
  const [head, checkpoints] = await Promise.all([deps.audit.store.head(), deps.audit.store.checkpoints()]);
  const covering = checkpoints.find((cp) => cp.seq >= r.seq);
  const field = (label: string, value: SafeHtml | string | number | undefined) =>
    value === undefined || value === ''
      ? ''
      : html`<dt>${label}</dt>
          <dd>${value}</dd>`;
  const person = r.erased ? html`<em>erased</em>` : r.principal;
  return consolePage(c, forms, {
    title: `Record ${r.seq}`,
    tab: '/admin/search',
    body: html`<div class="bar"><a href="/admin/search">← Audit search</a></div>
      <h1>Record ${r.seq}: ${r.event}${r.tool ? html` <code>${shownText(r.tool)}</code>` : ''}</h1>
      <dl class="fields">
        ${field('Time', shortTime(r.time))} ${field('Decision', html`${badge(r.decision)} ${r.outcome}`)}
        ${field('Reasons', html`<span class="mono">${r.reasons.join(', ') || '—'}</span>`)}
        ${field('Error code', r.errorCode)} ${field('Person', person)} ${field('Tenant', r.tenant)}
        ${field('Client', r.clientId)} ${field('Credential', r.credentialId)}
        ${field('Signed in with', r.authMethod)} ${field('Upstream', r.upstream)} ${field('Scope', r.scope)}
        ${field('Latency', `${r.latencyMs} ms`)} ${field('Bytes in / out', `${r.bytesIn} / ${r.bytesOut}`)}
        ${field('Correlation id', html`<span class="mono">${r.correlationId}</span>`)}
        ${field('Session', r.sessionId)}
      </dl>
      <h2>Arguments</h2>
      ${
        r.args
          ? html`<dl class="fields">
                ${field('Keyed hash', html`<span class="mono">${r.args.hash}</span>`)}
              </dl>
              <pre class="block" id="arguments">
${shownText(JSON.stringify(r.args.payload ?? r.args.shape, null, 2))}</pre>
              <p class="fine">
                ${r.args.payload !== undefined ? 'The arguments as recorded (secrets redacted when written).' : 'The shape only: this tool’s arguments are not logged, only their keyed hash (confirm a guess with portcullis audit).'}
              </p>`
          : r.erased
            ? html`<p class="fine">Erased.</p>`
            : html`<p class="fine">None.</p>`
      }
      <h2>Chain position</h2>
      <dl class="fields">
        ${field('Sequence', html`${r.seq} of ${head?.seq ?? r.seq}`)}
        ${field('Previous hash', html`<span class="mono">${r.prevHash}</span>`)}
        ${field('Hash', html`<span class="mono">${r.hash}</span>`)}
        ${field('Signed by', covering ? html`checkpoint at seq ${covering.seq} (${shortTime(covering.time)}, key ${covering.keyId})` : html`the signed head (seq ${head?.seq ?? '—'})`)}
      </dl>`,
  });
}
