/**
 * Reads a request body with a hard byte cap, parses JSON only after checking its nesting depth.
 * The depth scan is linear and runs before JSON.parse, so a 1 MiB `[[[[…` never reaches the
 * parser's recursion.
 */

/** The pages' forms (sign-in, consent, approvals, account): a few hundred bytes in practice. */
export const FORM_BODY_LIMIT = 16 * 1024;

export type BodyResult =
  | { readonly ok: true; readonly value: unknown; readonly bytes: number }
  | {
      readonly ok: false;
      readonly problem: 'too-large' | 'not-json' | 'too-deep' | 'not-utf8' | 'empty' | 'aborted';
    };

/**
 * `aborted`: the body stream broke before its end (the client reset or closed the connection
 * mid-body). That is the client's doing, not a server failure, and nobody is left to answer.
 */
async function readCappedText(
  request: Request,
  limit: number,
): Promise<
  { ok: true; text: string; bytes: number } | { ok: false; problem: 'too-large' | 'not-utf8' | 'aborted' }
> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return { ok: false, problem: 'too-large' };
  if (Number.isFinite(declared) && request.headers.get('transfer-encoding') === null) {
    // Framed by a Content-Length within the cap: Node's parser never delivers more than it
    // declares, so the body is read in one go (@hono/node-server reads it from the socket
    // without web streams) and the cap cannot be passed. A chunked body is read piece by piece
    // below, counting, and stopped at the cap.
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await request.arrayBuffer());
    } catch {
      return { ok: false, problem: 'aborted' };
    }
    if (bytes.byteLength > limit) return { ok: false, problem: 'too-large' };
    return decodeUtf8(bytes);
  }
  if (!request.body) return { ok: true, text: '', bytes: 0 };
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader: ReadableStreamDefaultReader<Uint8Array> = request.body.getReader();
  for (;;) {
    let next: Awaited<ReturnType<typeof reader.read>>;
    try {
      next = await reader.read();
    } catch {
      return { ok: false, problem: 'aborted' };
    }
    const { done, value } = next;
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, problem: 'too-large' };
    }
    chunks.push(value);
  }
  return decodeUtf8(Buffer.concat(chunks));
}

/** Stateless (never streaming), so one decoder serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeUtf8(
  bytes: Uint8Array,
): { ok: true; text: string; bytes: number } | { ok: false; problem: 'not-utf8' } {
  try {
    return { ok: true, text: UTF8.decode(bytes), bytes: bytes.byteLength };
  } catch {
    return { ok: false, problem: 'not-utf8' };
  }
}

/** Deepest array/object nesting in JSON text, stopping early once past `max`. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export async function readJsonBody(
  request: Request,
  opts: { limit: number; maxDepth: number },
): Promise<BodyResult> {
  const read = await readCappedText(request, opts.limit);
  if (!read.ok) return read;
  if (read.text.trim() === '') return { ok: false, problem: 'empty' };
  if (jsonDepthExceeds(read.text, opts.maxDepth)) return { ok: false, problem: 'too-deep' };
  try {
    return { ok: true, value: JSON.parse(read.text) as unknown, bytes: read.bytes };
  } catch {
    return { ok: false, problem: 'not-json' };
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` body (the pages' forms) with a hard byte cap.
 * Fields are strings; a repeated field keeps its first value.
 */
export async function readFormBody(
  request: Request,
  limit: number,
): Promise<
  | { ok: true; fields: Readonly<Record<string, string>> }
  | { ok: false; problem: 'too-large' | 'not-utf8' | 'aborted' }
> {
  const read = await readCappedText(request, limit);
  if (!read.ok) return read;
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of new URLSearchParams(read.text)) if (!(k in fields)) fields[k] = v;
  return { ok: true, fields };
}
