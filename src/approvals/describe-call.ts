import type { NoteStore, PendingApproval } from '../storage/index.js';
import { html, type SafeHtml } from '../ui/index.js';

/** What a pending call will change, in a person's words, where the gateway can know it. */
export interface CallDescription {
  /** One line for lists (the console's approvals). */
  readonly summary: SafeHtml;
  /** The fuller account for the approval page. */
  readonly detail: SafeHtml;
}

const FIRST_LINE_MAX = 160;
const ARG_MAX = 120;

/**
 * An argument as plain text for the operator's sentence: strings as they are, anything else as
 * JSON; control, bidi and invisible characters dropped (they could make the sentence read as
 * something else), cut at ARG_MAX. The result is escaped where it is put into the page.
 */
function argText(value: unknown): string {
  const raw = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  // eslint-disable-next-line no-control-regex -- these are what is removed
  const clean = raw.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, '');
  return clean.length > ARG_MAX ? `${clean.slice(0, ARG_MAX)}…` : clean;
}

/**
 * The operator's `approvalText` with each `{name}` replaced by that argument (html escapes each
 * piece); a placeholder with no such argument reads "(not given)". The template is the
 * operator's configuration, never anything the upstream or the caller sent.
 */
function fillTemplate(template: string, args: Record<string, unknown>): SafeHtml[] {
  const parts: SafeHtml[] = [];
  let at = 0;
  for (const m of template.matchAll(/\{([A-Za-z0-9_.-]{1,64})\}/g)) {
    parts.push(html`${template.slice(at, m.index)}`);
    const name = m[1]!;
    const value = Object.hasOwn(args, name) ? argText(args[name]) : '';
    parts.push(value === '' ? html`<em>(not given)</em>` : html`<strong>${value}</strong>`);
    at = m.index + m[0].length;
  }
  parts.push(html`${template.slice(at)}`);
  return parts;
}

/**
 * Describes a pending call from what the gateway itself holds. For the built-in `memory_delete`
 * that is the note about to go: its title, first line and date, read from the caller's own notes
 * (owner and tenant from the approval, never from the arguments' say-so), so "delete
 * note_8f…" reads as "delete 'Dentist, Tuesday' from 3 March". Undefined when there is nothing
 * to add to the arguments (an upstream's tool, a note that does not exist).
 */
export async function describeCall(
  a: Pick<PendingApproval, 'tool' | 'upstream' | 'args' | 'subject' | 'tenant'>,
  notes: NoteStore,
  /** The served tool by name (the catalogue), for an upstream tool's `approvalText`. */
  toolNamed?: (name: string) => { readonly approvalText?: string; readonly upstream?: string } | undefined,
): Promise<CallDescription | undefined> {
  if (a.upstream !== null) {
    const tool = toolNamed?.(a.tool);
    if (!tool?.approvalText || tool.upstream !== a.upstream) return undefined;
    let args: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(a.args ?? '{}');
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        args = parsed as Record<string, unknown>;
    } catch {
      // described with every placeholder "(not given)"
    }
    const sentence = fillTemplate(tool.approvalText, args);
    return {
      summary: html`${sentence}`,
      detail: html`<div class="what">What it will change</div>
        <p class="change">${sentence}</p>
        <p class="fine">In the words of this gateway's operator, with the call's arguments filled in.</p>`,
    };
  }
  if (a.tool !== 'memory_delete' || !a.args) return undefined;
  let id: unknown;
  try {
    id = (JSON.parse(a.args) as { id?: unknown }).id;
  } catch {
    return undefined;
  }
  if (typeof id !== 'string') return undefined;
  const note = await notes.get({ tenant: a.tenant, owner: a.subject }, id);
  if (!note) {
    const none = html`No note with this id exists now: the call would change nothing.`;
    return { summary: none, detail: none };
  }
  const line = note.content.split(/\r?\n/, 1)[0] ?? '';
  const first = line.length > FIRST_LINE_MAX ? `${line.slice(0, FIRST_LINE_MAX)}…` : line;
  const date = note.createdAt.toISOString().slice(0, 10);
  const title = note.title || '(untitled)';
  return {
    summary: html`Deletes the note <strong>${title}</strong> of ${date}`,
    detail: html`<div class="what">What it will change</div>
      <p class="change">Deletes your note <strong>${title}</strong>, saved ${date}, for good. It begins:</p>
      <blockquote class="mono">${first || '(empty)'}</blockquote>`,
  };
}
