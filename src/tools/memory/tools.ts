import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { NoteOwner, NoteStore } from '../../storage/index.js';
import { text } from '../text-schema.js';
import { defineTool } from '../define-tool.js';
import { ToolInputError, type Tool, type ToolContext } from '../types.js';

const NOTE_ID = /^note_[A-Za-z0-9_-]{22}$/;
const noteId = z
  .string()
  .regex(NOTE_ID, { message: 'must be a note id as returned by memory_save (note_…)' });

/** The tenant and owner come from the credential, never from a tool argument. */
const ownerOf = (ctx: ToolContext): NoteOwner => ({
  tenant: ctx.principal.tenant,
  owner: ctx.principal.subject,
});

function newNoteId(): string {
  return `note_${randomBytes(16).toString('base64url')}`;
}

/**
 * The four memory tools over one note store. The two that write journal the call's
 * correlation id in the write's own transaction (EffectMark): the audit log and the notes
 * live in different files, so this is how a crash between the write and its record is told
 * apart from one before the write.
 */
export function createMemoryTools(notes: NoteStore, now: () => Date = () => new Date()): Tool[] {
  return [
    defineTool({
      name: 'memory_save',
      title: 'Save a note',
      description:
        "Save a note to the caller's private memory. Returns the new note's id, which memory_get and memory_delete take.",
      scope: 'memory:write',
      class: 'write',
      labels: ['private-data'],
      input: z.strictObject({
        content: text({ min: 1, max: 20_000 }).describe('The note text (1–20,000 characters).'),
        title: text({ max: 200 }).optional().describe('A short title (up to 200 characters).'),
        tags: z
          .array(text({ min: 1, max: 40 }))
          .max(10, { message: 'at most 10 tags' })
          .optional()
          .describe('Up to 10 tags of up to 40 characters.'),
      }),
      output: z.strictObject({ id: z.string() }),
      async execute(args, ctx) {
        const id = newNoteId();
        const createdAt = now();
        await notes.save(
          ownerOf(ctx),
          { id, title: args.title ?? '', content: args.content, tags: args.tags ?? [], createdAt },
          { correlationId: ctx.requestId, at: createdAt },
        );
        return { structured: { id }, text: `Saved note ${id}.` };
      },
    }),
    defineTool({
      name: 'memory_search',
      title: 'Search notes',
      description:
        "Full-text search over the caller's notes. The query is plain words (no operators). Returns ids, titles and snippets.",
      scope: 'memory:read',
      class: 'read',
      labels: ['private-data'],
      input: z.strictObject({
        query: text({ min: 1, max: 200 }).describe('Words to look for (1–200 characters).'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(50)
          .optional()
          .describe('Most results to return (1–50, default 10).'),
      }),
      output: z.strictObject({
        items: z.array(z.strictObject({ id: z.string(), title: z.string(), snippet: z.string() })),
      }),
      async execute(args, ctx) {
        const items = await notes.search(ownerOf(ctx), args.query, args.limit ?? 10);
        const lines = items.map((i) => `- ${i.id}${i.title ? ` (${i.title})` : ''}: ${i.snippet}`);
        return {
          structured: { items },
          text: items.length ? `Found ${items.length} note(s):\n${lines.join('\n')}` : 'No matching notes.',
        };
      },
    }),
    defineTool({
      name: 'memory_get',
      title: 'Read a note',
      description: "Read one of the caller's notes by id.",
      scope: 'memory:read',
      class: 'read',
      labels: ['private-data'],
      input: z.strictObject({ id: noteId.describe('The note id (note_…).') }),
      output: z.strictObject({
        id: z.string(),
        title: z.string(),
        content: z.string(),
        tags: z.array(z.string()),
        createdAt: z.string(),
      }),
      async execute(args, ctx) {
        const note = await notes.get(ownerOf(ctx), args.id);
        if (!note)
          throw new ToolInputError(`No note with id ${args.id}. Use memory_search to find note ids.`);
        const structured = { ...note, tags: [...note.tags], createdAt: note.createdAt.toISOString() };
        return { structured, text: `${note.title ? `# ${note.title}\n\n` : ''}${note.content}` };
      },
    }),
    defineTool({
      name: 'memory_delete',
      title: 'Delete a note',
      description: "Delete one of the caller's notes by id. This cannot be undone.",
      scope: 'memory:delete',
      class: 'destructive',
      labels: ['private-data'],
      input: z.strictObject({ id: noteId.describe('The note id (note_…).') }),
      output: z.strictObject({ deleted: z.literal(true) }),
      async execute(args, ctx) {
        if (!(await notes.delete(ownerOf(ctx), args.id, { correlationId: ctx.requestId, at: now() }))) {
          throw new ToolInputError(`No note with id ${args.id}. Use memory_search to find note ids.`);
        }
        return { structured: { deleted: true as const }, text: `Deleted note ${args.id}.` };
      },
    }),
  ];
}
