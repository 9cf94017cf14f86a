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
): Promise<CallDescription | undefined> {
  if (a.upstream !== null || a.tool !== 'memory_delete' || !a.args) return undefined;
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
