import { createHash } from 'node:crypto';
import { hashDefinition, INSTRUCTIONS_KEY } from '../pins/index.js';
import { createRedactor } from '../safety/index.js';
import { isScanError, ScanError } from './errors.js';
import type { InventoryItem, ItemKind } from './report.js';
import { isObject, type Session } from './session.js';

/** Pages read per list; a server that pages for ever is cut here (and it is reported). */
export const MAX_PAGES = 20;
/** Items kept per list. */
export const MAX_ITEMS = 1000;

export interface Listed {
  readonly kind: ItemKind;
  readonly name: string;
  /** The definition exactly as served: what the checks read. */
  readonly raw: Record<string, unknown>;
}

export interface Inventory {
  readonly items: readonly Listed[];
  /** What could not be read, one sentence each (reported as scan/partial). */
  readonly problems: readonly string[];
  /** Whether tools/list answered (false: refused, so nothing about the tools was checked). */
  readonly toolsListed: boolean;
}

const LISTS: readonly {
  method: string;
  field: string;
  kind: ItemKind;
  capability: string;
  nameOf: (item: Record<string, unknown>) => unknown;
}[] = [
  { method: 'tools/list', field: 'tools', kind: 'tool', capability: 'tools', nameOf: (i) => i.name },
  { method: 'prompts/list', field: 'prompts', kind: 'prompt', capability: 'prompts', nameOf: (i) => i.name },
  {
    method: 'resources/list',
    field: 'resources',
    kind: 'resource',
    capability: 'resources',
    nameOf: (i) => i.uri,
  },
  {
    method: 'resources/templates/list',
    field: 'resourceTemplates',
    kind: 'resource-template',
    capability: 'resources',
    nameOf: (i) => i.uriTemplate,
  },
];

/**
 * Reads everything the server lists: tools always (a server that forgets to declare the
 * capability still gets asked), prompts and resources when declared. Bounded: MAX_PAGES pages
 * and MAX_ITEMS items per list, a repeated cursor ends the list.
 */
export async function listInventory(session: Session): Promise<Inventory> {
  const items: Listed[] = [];
  const problems: string[] = [];
  let toolsListed = false;
  for (const list of LISTS) {
    if (list.kind !== 'tool' && !isObject(session.hello.capabilities[list.capability])) continue;
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    let count = 0;
    for (let page = 0; ; page++) {
      if (page >= MAX_PAGES) {
        problems.push(`${list.method}: stopped after ${MAX_PAGES} pages`);
        break;
      }
      let reply;
      try {
        reply = await session.request(list.method, cursor === undefined ? {} : { cursor });
      } catch (err) {
        // Tools are what the scan is about: a tool listing that fails fails the scan (exit 2).
        if (!isScanError(err) || err.code === 'scan-server-exited' || list.kind === 'tool') throw err;
        problems.push(`${list.method}: ${err.publicMessage}`);
        break;
      }
      if (!reply.result) {
        // -32601 for tools on a server without tools is an empty list, not a problem.
        if (list.kind === 'tool' && reply.error?.code !== -32601) {
          throw new ScanError(
            'scan-protocol-error',
            `tools/list failed: ${reply.error?.message ?? 'no result'}`,
          );
        }
        if (list.kind !== 'tool') problems.push(`${list.method}: ${reply.error?.message ?? 'no result'}`);
        break;
      }
      if (list.kind === 'tool') toolsListed = true;
      const entries = reply.result[list.field];
      for (const entry of Array.isArray(entries) ? entries : []) {
        const name = isObject(entry) ? list.nameOf(entry) : undefined;
        if (!isObject(entry) || typeof name !== 'string') {
          problems.push(
            `${list.method}: an entry without a ${list.kind === 'tool' ? 'name' : 'uri'} was skipped`,
          );
          continue;
        }
        if (count++ >= MAX_ITEMS) break;
        items.push({ kind: list.kind, name, raw: entry });
      }
      if (count > MAX_ITEMS) {
        problems.push(`${list.method}: more than ${MAX_ITEMS} entries; the rest were not checked`);
        break;
      }
      const next = reply.result.nextCursor;
      if (typeof next !== 'string' || next === '' || seenCursors.has(next)) break;
      seenCursors.add(next);
      cursor = next;
    }
  }
  if (session.hello.instructions !== undefined) {
    items.push({
      kind: 'instructions',
      name: INSTRUCTIONS_KEY,
      raw: { instructions: session.hello.instructions },
    });
  }
  return { items, problems, toolsListed };
}

const masker = createRedactor({ patterns: true });

/** The pin hash of a definition (as the gateway pins it); a value JSON cannot carry is hashed as text. */
export function hashOf(raw: unknown): string {
  try {
    return hashDefinition(raw);
  } catch {
    return `sha256:${createHash('sha256')
      .update(JSON.stringify(raw) ?? '')
      .digest('hex')}`;
  }
}

/** The report's view of an item: its hash over what was served, its definition with secrets masked. */
export function toInventoryItem(item: Listed): InventoryItem {
  const raw = item.kind === 'instructions' ? item.raw.instructions : item.raw;
  return {
    kind: item.kind,
    name: masker.redact(item.name).text,
    hash: hashOf(raw),
    definition: masker.redactDeep(item.raw).value,
  };
}
