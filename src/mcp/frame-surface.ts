import {
  ProtocolError,
  ProtocolErrorCode,
  type CompleteResult,
  type GetPromptResult,
  type ReadResourceResult,
} from '@modelcontextprotocol/server';
import type { ContentBlock, SurfaceMethod } from '../tools/index.js';
import type { ToolResult } from './context.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const textOf = (b: ContentBlock): string | undefined =>
  b.type === 'text' && typeof b.text === 'string' ? b.text : undefined;

/**
 * Frames the secured result of a resource read, prompt get or completion (the call stages work in
 * tool results: tools/surface.ts) as that method's own result. A result that reports an error —
 * the upstream's own, invalid arguments, a withheld (quarantined) output — is a JSON-RPC error
 * carrying the same secured text, since these methods have no `isError` result.
 */
/** What each surface method answers (the SDK validates the shape again when it frames it). */
export interface SurfaceResults {
  readonly 'resources/read': ReadResourceResult;
  readonly 'prompts/get': GetPromptResult;
  readonly 'completion/complete': CompleteResult;
}

export function frameSurfaceResult<M extends SurfaceMethod>(
  method: M,
  result: ToolResult,
  target: string,
): SurfaceResults[M] {
  if (result.isError) {
    const text = result.content.map(textOf).filter(Boolean).join('\n') || 'The request failed.';
    // 2026-07-28 (SEP-2164): a failed read names the resource it could not read.
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      text,
      method === 'resources/read' ? { uri: target } : undefined,
    );
  }
  // The items are built from the secured result's own fields; their exact content types are
  // the upstream's, checked when they arrived (upstreams/parse-content.ts).
  const framed = {
    'resources/read': () => ({ contents: resourceContents(result.content, target) }),
    'prompts/get': () => promptResult(result),
    'completion/complete': () => completionResult(result),
  }[method]();
  return framed as unknown as SurfaceResults[M];
}

/**
 * The items of a read, in order. Text blocks the output stage added (an injection warning) are not
 * resource contents: they are put in front of the first text item, so a client that shows only
 * the text still sees them; with no text item they become one of their own under the read's URI.
 */
function resourceContents(content: readonly ContentBlock[], uri: string): Record<string, unknown>[] {
  const notes: string[] = [];
  const items: Record<string, unknown>[] = [];
  for (const b of content) {
    const text = textOf(b);
    if (text !== undefined) notes.push(text);
    else if (b.type === 'resource' && isObject(b.resource)) items.push({ ...b.resource });
  }
  if (notes.length === 0) return items;
  const note = notes.join('\n\n');
  const first = items.find((i) => typeof i.text === 'string');
  if (first) first.text = `${note}\n\n${first.text as string}`;
  else items.unshift({ uri, mimeType: 'text/plain', text: note });
  return items;
}

/** Messages from the content blocks and the roles carried beside them (secure-output stage). */
function promptResult(result: ToolResult): Record<string, unknown> {
  const extra = isObject(result.structuredContent) ? result.structuredContent : {};
  const roles = Array.isArray(extra.roles) ? (extra.roles as unknown[]) : [];
  // Blocks the output stage put in front (a warning) have no role of their own: they go to the user.
  const offset = result.content.length - roles.length;
  const messages = result.content.map((content, i) => {
    const role = i >= offset ? roles[i - offset] : 'user';
    return { role: role === 'assistant' ? 'assistant' : 'user', content };
  });
  return {
    ...(typeof extra.description === 'string' ? { description: extra.description } : {}),
    messages,
  };
}

function completionResult(result: ToolResult): Record<string, unknown> {
  const extra = isObject(result.structuredContent) ? result.structuredContent : {};
  const values = result.content.map(textOf).filter((v): v is string => v !== undefined);
  return {
    completion: {
      values,
      ...(typeof extra.total === 'number' ? { total: extra.total } : {}),
      ...(typeof extra.hasMore === 'boolean' ? { hasMore: extra.hasMore } : {}),
    },
  };
}
