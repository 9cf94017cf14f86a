import {
  AuditQueryError,
  parseFilters,
  verifyAuditStore,
  type AuditQuery,
  type AuditRecord,
  type VerifyResult,
} from '../../audit/index.js';
import { html, type SafeHtml } from '../../ui/index.js';
import { bucketRecords } from '../bucket-records.js';
import { timelineChart } from '../charts.js';
import { csvRow } from '../csv.js';
import {
  badge,
  consolePage,
  Forms,
  notice,
  recordAction,
  shortTime,
  type ConsoleContext,
  type ConsoleDeps,
} from '../kit.js';

/** The search form's fields, as the URL carries them (a search is a link one can share). */
const FIELDS = [
  'person',
  'client',
  'tool',
  'upstream',
  'decision',
  'outcome',
  'reason',
  'since',
  'until',
] as const;
type Asked = Partial<Record<(typeof FIELDS)[number], string>>;

/** Rows on the page; the export takes up to EXPORT_LIMIT. */
const PAGE_LIMIT = 200;
const EXPORT_LIMIT = 100_000;
const TIMELINE_LIMIT = 20_000;

function asked(c: ConsoleContext): Asked {
  const out: Asked = {};
  for (const f of FIELDS) {
    const v = c.req.query(f)?.trim();
    if (v) out[f] = v.slice(0, 200);
  }
  out.since ??= '1h';
  return out;
}

function queryOf(a: Asked, now: Date): Omit<AuditQuery, 'limit'> {
  return parseFilters(
    {
      ...(a.person ? { principal: a.person } : {}),
      ...(a.client ? { client: a.client } : {}),
      ...(a.tool ? { tool: a.tool } : {}),
      ...(a.upstream ? { upstream: a.upstream } : {}),
      ...(a.decision ? { decision: a.decision } : {}),
      ...(a.outcome ? { outcome: a.outcome } : {}),
      ...(a.reason ? { reason: a.reason } : {}),
      ...(a.since ? { since: a.since } : {}),
      ...(a.until ? { until: a.until } : {}),
    },
    now,
  );
}

const searchLink = (a: Asked, extra: Record<string, string> = {}) =>
  `?${new URLSearchParams({ ...(a as Record<string, string>), ...extra }).toString()}`;

/**
 * The chain's state, verified from the first stored record to the signed head. Verifying reads
 * the whole log, so the answer is kept for a short while rather than recomputed on every view.
 */
export function chainStatus(deps: ConsoleDeps): () => Promise<{ result: VerifyResult; at: Date }> {
  let cached: { result: VerifyResult; at: Date } | undefined;
  return async () => {
    const now = deps.now();
    if (!cached || now.getTime() - cached.at.getTime() > 30_000) {
      cached = { result: await verifyAuditStore(deps.audit.store, deps.audit.publicKey), at: now };
    }
    return cached;
  };
}

async function chainPanel(deps: ConsoleDeps, status: ReturnType<typeof chainStatus>): Promise<SafeHtml> {
  const { result, at } = await status();
  const checkpoints = await deps.audit.store.checkpoints();
  const last = checkpoints.at(-1);
  const checkpoint = last
    ? html`last signed checkpoint at seq <strong>${last.seq}</strong> (${shortTime(last.time)})`
    : html`no checkpoint yet (the signed head covers every record)`;
  return result.ok
    ? html`<div class="notice ok" role="status">
        Chain verified up to seq <strong>${result.lastSeq}</strong> (${result.count} records, ${result.erased}
        erased); ${checkpoint}. Checked ${shortTime(at.toISOString())}.
      </div>`
    : html`<div class="notice error" role="alert">
        Chain BROKEN at seq <strong>${result.firstBrokenSeq}</strong>: ${result.problem} — ${result.detail}.
        ${checkpoint}.
      </div>`;
}

function filterForm(a: Asked, error?: string): SafeHtml {
  const input = (name: (typeof FIELDS)[number], label: string, placeholder = '') =>
    html`<div>
      <label for="f-${name}">${label}</label>
      <input
        id="f-${name}"
        name="${name}"
        type="text"
        value="${a[name] ?? ''}"
        placeholder="${placeholder}"
      />
    </div>`;
  const select = (name: 'decision' | 'outcome', label: string, options: readonly string[]) =>
    html`<div>
      <label for="f-${name}">${label}</label>
      <select id="f-${name}" name="${name}">
        <option value="">any</option>
        ${options.map((o) => html`<option value="${o}" ${a[name] === o ? html` selected` : ''}>${o}</option>`)}
      </select>
    </div>`;
  return html`<form class="filters" method="get" action="/admin/search">
      ${input('person', 'Person', 'alice')} ${input('client', 'Client')}
      ${input('tool', 'Tool', 'memory_delete')} ${input('upstream', 'Upstream')}
      ${select('decision', 'Decision', ['allow', 'deny', 'confirm', 'error'])}
      ${select('outcome', 'Outcome', ['ok', 'denied', 'invalid', 'failed', 'rate-limited', 'unauthenticated', 'interrupted'])}
      ${input('reason', 'Reason', 'scope-missing')} ${input('since', 'Since', '1h, 7d or ISO time')}
      ${input('until', 'Until', 'ISO time')}
      <div><button class="primary small" type="submit">Search</button></div>
    </form>
    ${error ? notice('error', error) : ''}`;
}

export function recordRow(r: AuditRecord): SafeHtml {
  return html`<tr>
    <td class="num"><a href="/admin/records/${r.seq}">${r.seq}</a></td>
    <td class="mono">${shortTime(r.time)}</td>
    <td>${r.event}</td>
    <td>${r.erased ? html`<em>erased</em>` : (r.principal ?? '—')}</td>
    <td>${r.clientId ?? '—'}</td>
    <td>
      <code>${r.tool ?? '—'}</code>${r.upstream ? html` <span class="fine">(${r.upstream})</span>` : ''}
    </td>
    <td>${badge(r.decision)}</td>
    <td class="mono">${r.reasons.join(', ') || '—'}</td>
    <td class="num">${Math.round(r.latencyMs)} ms</td>
  </tr>`;
}

export function recordTable(records: readonly AuditRecord[]): SafeHtml {
  return html`<table class="grid">
    <thead>
      <tr>
        <th>Seq</th>
        <th>Time (UTC)</th>
        <th>Event</th>
        <th>Person</th>
        <th>Client</th>
        <th>Tool</th>
        <th>Decision</th>
        <th>Reasons</th>
        <th>Latency</th>
      </tr>
    </thead>
    <tbody>
      ${records.map(recordRow)}
    </tbody>
  </table>`;
}

/**
 * Audit search: "which tools did this person invoke in the last hour, and with what arguments?"
 * Reading the log is itself recorded (`admin-read`, with the filters), as on /admin/audit.
 */
export async function auditSearchPage(
  c: ConsoleContext,
  deps: ConsoleDeps,
  status: ReturnType<typeof chainStatus>,
): Promise<Response> {
  const forms = new Forms(deps, c);
  const a = asked(c);
  const now = deps.now();
  let filters: Omit<AuditQuery, 'limit'>;
  try {
    filters = queryOf(a, now);
  } catch (err) {
    if (!(err instanceof AuditQueryError)) throw err;
    return consolePage(c, forms, {
      title: 'Audit',
      tab: '/admin/search',
      status: 400,
      body: html`<h1>Audit search</h1>
        ${filterForm(a, err.publicMessage)}`,
    });
  }
  const records = (await deps.audit.log.query({ ...filters, limit: PAGE_LIMIT, newest: true })).reverse();
  const since = Date.parse(filters.since ?? now.toISOString());
  const until = filters.until ? Date.parse(filters.until) : now.getTime();
  const timeline = await deps.audit.log.query({ ...filters, limit: TIMELINE_LIMIT, newest: true });
  await recordAction(deps, c, { reason: 'admin-read', details: { view: 'search', ...a } });
  return consolePage(c, forms, {
    title: 'Audit',
    tab: '/admin/search',
    body: html`<h1>Audit search</h1>
      ${await chainPanel(deps, status)} ${filterForm(a)}
      ${timelineChart(bucketRecords(timeline, since, until, 40), { label: `${shortTime(new Date(since).toISOString())} to ${shortTime(new Date(until).toISOString())}` })}
      <div class="bar">
        <span class="grow"
          >${records.length === PAGE_LIMIT ? `The newest ${PAGE_LIMIT} matches` : `${records.length} match${records.length === 1 ? '' : 'es'}`},
          newest first.</span
        >
        <a class="button secondary small" href="/admin/search/export${searchLink(a, { format: 'jsonl' })}"
          >Export JSON lines</a
        >
        <a class="button secondary small" href="/admin/search/export${searchLink(a, { format: 'csv' })}"
          >Export CSV</a
        >
      </div>
      ${records.length === 0 ? html`<p class="empty">No records match.</p>` : recordTable(records)}`,
  });
}

/** The CSV columns of an export: what a reviewer filters on in a spreadsheet. */
const CSV_COLUMNS = [
  'seq',
  'time',
  'event',
  'principal',
  'tenant',
  'clientId',
  'credentialId',
  'authMethod',
  'tool',
  'upstream',
  'decision',
  'reasons',
  'outcome',
  'errorCode',
  'latencyMs',
  'bytesIn',
  'bytesOut',
  'argsHash',
  'correlationId',
  'hash',
] as const;

function csvOf(r: AuditRecord): string {
  const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    seq: r.seq,
    time: r.time,
    event: r.event,
    principal: r.principal,
    tenant: r.tenant,
    clientId: r.clientId,
    credentialId: r.credentialId,
    authMethod: r.authMethod,
    tool: r.tool,
    upstream: r.upstream,
    decision: r.decision,
    reasons: r.reasons.join(' '),
    outcome: r.outcome,
    errorCode: r.errorCode,
    latencyMs: r.latencyMs,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    argsHash: r.args?.hash,
    correlationId: r.correlationId,
    hash: r.hash,
  };
  return csvRow(CSV_COLUMNS.map((k) => row[k]));
}

/** The selection as JSON lines (the records as stored) or CSV; the export is on the record first. */
export async function auditExport(c: ConsoleContext, deps: ConsoleDeps): Promise<Response> {
  const a = asked(c);
  const format = c.req.query('format') === 'csv' ? 'csv' : 'jsonl';
  let filters: Omit<AuditQuery, 'limit'>;
  try {
    filters = queryOf(a, deps.now());
  } catch (err) {
    if (!(err instanceof AuditQueryError)) throw err;
    return c.text(err.publicMessage, 400);
  }
  const records = await deps.audit.log.query({ ...filters, limit: EXPORT_LIMIT });
  const body =
    format === 'csv'
      ? csvRow(CSV_COLUMNS) + records.map(csvOf).join('')
      : records.map((r) => `${JSON.stringify(r)}\n`).join('');
  await recordAction(deps, c, {
    reason: 'admin-export',
    details: { format, records: records.length, ...a },
    bytesOut: Buffer.byteLength(body),
  });
  const stamp = deps.now().toISOString().replace(/[:.]/g, '-');
  return new Response(body, {
    headers: {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="portcullis-audit-${stamp}.${format === 'csv' ? 'csv' : 'jsonl'}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}
