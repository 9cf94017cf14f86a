import { setOwnKey } from './own-key.js';
import { sanitiseText, type SanitiseCounts } from './sanitise-text.js';

export interface SanitiseResultOptions {
  /** Deepest nesting of objects/arrays kept; deeper values are replaced by a notice. Default 32. */
  readonly maxDepth?: number;
  /** UTF-8 bytes of text kept across the whole result. Default 256 KiB. */
  readonly maxTextBytes?: number;
}

/** The parts of an MCP CallToolResult this stage reads; other fields pass through untouched. */
export interface ToolResultLike {
  readonly content?: readonly unknown[];
  readonly structuredContent?: unknown;
  readonly [key: string]: unknown;
}

export interface SanitisedResult<T extends ToolResultLike> {
  readonly result: T;
  readonly removed: SanitiseCounts;
  readonly truncated: boolean;
}

// Base64 payloads of image/audio blocks and embedded blob resources are bytes, not text a model
// reads as language; they are left alone (and not counted against the text budget).
const BINARY_KEYS = new Set(['data', 'blob']);

export function truncationNotice(bytes: number): string {
  return `[portcullis: output truncated at ${bytes} bytes]`;
}

function depthNotice(depth: number): string {
  return `[portcullis: nested deeper than ${depth} levels]`;
}

/** Cuts to at most `bytes` UTF-8 bytes without splitting a code point. */
function cutUtf8(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8');
  if (encoded.length <= bytes) return text;
  let end = bytes;
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end--;
  return encoded.subarray(0, end).toString('utf8');
}

/**
 * Sanitises every string of a tool result (text blocks, other blocks' fields, and all of
 * `structuredContent` including object keys), caps nesting depth and total text size (the `text`
 * of content blocks and every string of `structuredContent`). The string where the budget runs out is cut and carries the truncation notice; every string
 * after it is emptied and later text blocks are dropped, so the model always sees where and why
 * output stopped. Pure: the input is not modified.
 */
export function sanitiseResult<T extends ToolResultLike>(
  result: T,
  options: SanitiseResultOptions = {},
): SanitisedResult<T> {
  const maxDepth = options.maxDepth ?? 32;
  const maxTextBytes = options.maxTextBytes ?? 256 * 1024;
  const removed: SanitiseCounts = { ansi: 0, invisible: 0, control: 0 };
  let remaining = maxTextBytes;
  let truncated = false;

  const clean = (raw: string): string => {
    const { text, removed: r } = sanitiseText(raw);
    removed.ansi += r.ansi;
    removed.invisible += r.invisible;
    removed.control += r.control;
    return text;
  };

  const budget = (text: string): string => {
    if (truncated) return '';
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= remaining) {
      remaining -= bytes;
      return text;
    }
    const kept = cutUtf8(text, remaining);
    remaining = 0;
    truncated = true;
    return `${kept}\n${truncationNotice(maxTextBytes)}`;
  };

  // `budgeted` is false for the structural strings of content blocks (type, mimeType, uri…):
  // they are sanitised but neither count against the budget nor get emptied by a cut.
  const walk = (value: unknown, depth: number, budgeted: boolean): unknown => {
    if (typeof value === 'string') return budgeted ? budget(clean(value)) : clean(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= maxDepth) return depthNotice(maxDepth);
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1, budgeted));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const binary = BINARY_KEYS.has(key) && typeof v === 'string';
      const cleanKey = clean(key);
      const item = binary ? v : walk(v, depth + 1, budgeted || key === 'text');
      setOwnKey(out, cleanKey, item);
    }
    return out;
  };

  const out: Record<string, unknown> = { ...result };
  if (Array.isArray(result.content)) {
    const blocks: unknown[] = [];
    for (const block of result.content) {
      const wasTruncated = truncated;
      const cleaned = walk(block, 1, false);
      // A text block that only exists after the cut would be an empty block: drop it.
      if (wasTruncated && isTextBlock(cleaned)) continue;
      blocks.push(cleaned);
    }
    out.content = blocks;
  }
  if ('structuredContent' in result) out.structuredContent = walk(result.structuredContent, 0, true);
  return { result: out as T, removed, truncated };
}

function isTextBlock(block: unknown): boolean {
  return typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'text';
}
