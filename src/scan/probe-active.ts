import { findSecretsIn, looksLikeWrite } from './check-definitions.js';
import { isScanError } from './errors.js';
import type { HttpSession } from './http-session.js';
import type { Listed } from './list-inventory.js';
import { finding, type Finding } from './report.js';
import { isObject, type Session } from './session.js';

/**
 * `--active`: bounded probes that change nothing. A tool is called only when it is annotated
 * read-only, not destructive, and its name says nothing of writing, sending or deleting — a
 * server's annotations are hints it can lie about (DESIGN.md of upstreams/), so the name must
 * agree too — and then only with arguments its own schema forbids, which a correct server refuses
 * before doing anything. The burst uses listings, never tool calls.
 */

/** Tools probed with invalid arguments, at most. */
export const MAX_PROBED_TOOLS = 5;
/** Requests in the rate-limit burst, at most (the brief's bound). */
export const BURST_REQUESTS = 200;
const BURST_CONCURRENCY = 10;

/** Whether the scanner may call this tool at all. */
export function isProbeable(tool: Listed): boolean {
  if (tool.kind !== 'tool') return false;
  const ann = isObject(tool.raw.annotations) ? tool.raw.annotations : {};
  return ann.readOnlyHint === true && ann.destructiveHint !== true && !looksLikeWrite(tool.name);
}

/** Arguments the tool's schema refuses: an unknown key, and a number where a string is required. */
export function invalidArguments(tool: Listed): Record<string, unknown> {
  const schema = isObject(tool.raw.inputSchema) ? tool.raw.inputSchema : {};
  const props = isObject(schema.properties) ? schema.properties : {};
  const args: Record<string, unknown> = { portcullis_scan_unexpected: true };
  for (const [name, s] of Object.entries(props)) {
    if (!isObject(s)) continue;
    // The wrong JSON type for each parameter: an object for scalars, a string for objects/arrays.
    args[name] = s.type === 'object' || s.type === 'array' ? 'portcullis-scan' : { portcullis_scan: true };
  }
  return args;
}

const INTERNALS: readonly [string, RegExp][] = [
  [
    'a stack trace',
    /\n\s+at\s+\S.*:\d+:\d+|\bTraceback \(most recent call last\)|\bat [\w$.<>]+ \((?:file:\/\/|\/)[^)]+:\d+:\d+\)/,
  ],
  [
    'SQL',
    /\b(?:SELECT\s+[\w*,\s]+\s+FROM|INSERT\s+INTO|syntax error at or near|SQLITE_\w+|ER_\w+_ERROR|psql:|ORA-\d{5})/i,
  ],
  ['a filesystem path', /(?:^|[\s"'(])\/(?:home|usr|var|opt|etc|srv|root|app|tmp)\/[\w.@-]+\/[\w./@-]+/],
];

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/** Invalid arguments to read-only tools: refused with a usable message, and nothing internal in it. */
export async function probeInvalidArguments(
  session: Session,
  id: string,
  items: readonly Listed[],
): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const tool of items.filter(isProbeable).slice(0, MAX_PROBED_TOOLS)) {
    const loc = { kind: 'tool', name: tool.name } as const;
    let reply;
    try {
      reply = await session.request('tools/call', { name: tool.name, arguments: invalidArguments(tool) });
    } catch (err) {
      if (isScanError(err) && err.code !== 'scan-server-exited') {
        out.push(finding('validation/server-error', id, loc, `invalid arguments: ${err.publicMessage}`));
        continue;
      }
      throw err;
    }
    const result = reply.result;
    const text = reply.error ? `${reply.error.message} ${textOf(reply.error.data)}` : textOf(result);
    if (reply.status !== undefined && reply.status >= 500) {
      out.push(
        finding('validation/server-error', id, loc, `invalid arguments answered HTTP ${reply.status}`),
      );
    } else if (reply.error?.code === -32603) {
      out.push(
        finding('validation/server-error', id, loc, 'invalid arguments answered -32603 (internal error)'),
      );
    } else if (result && result.isError !== true) {
      out.push(
        finding(
          'validation/invalid-arguments-accepted',
          id,
          loc,
          'arguments of the wrong type and an unknown key gave a normal result',
        ),
      );
    }
    const leaks = INTERNALS.filter(([, re]) => re.test(text)).map(([what]) => what);
    if (leaks.length > 0) {
      out.push(
        finding(
          'validation/error-leaks-internals',
          id,
          loc,
          `the answer to invalid arguments shows ${leaks.join(', ')}`,
        ),
      );
    }
    const secrets = findSecretsIn(reply.error ?? result);
    if (secrets.length > 0) {
      out.push(
        finding(
          'secrets/in-response',
          id,
          loc,
          `${secrets.join(', ')} in the answer to invalid arguments (value not shown)`,
        ),
      );
    }
  }
  return out;
}

/**
 * A burst of at most BURST_REQUESTS requests, BURST_CONCURRENCY at a time, that must end in a
 * 429 with Retry-After (or an in-band limit). Servers limit tool calls rather than listings, so
 * the burst is of calls with invalid arguments to a probeable (read-only) tool when there is
 * one — refused before anything runs, as the invalid-argument probe is — and of listings
 * otherwise. Stops at the first sign of a limit.
 */
export async function probeRateLimit(
  session: HttpSession,
  id: string,
  items: readonly Listed[],
): Promise<Finding[]> {
  const tool = items.find(isProbeable);
  const request = tool
    ? () => session.exchange('tools/call', { name: tool.name, arguments: invalidArguments(tool) })
    : () => session.exchange('tools/list', {});
  const what = tool ? `calls of ${tool.name} with invalid arguments` : 'listings';
  let sent = 0;
  let limited: { status: number; retryAfter: string | null } | undefined;
  while (sent < BURST_REQUESTS && !limited) {
    const batch = Math.min(BURST_CONCURRENCY, BURST_REQUESTS - sent);
    sent += batch;
    const answers = await Promise.allSettled(Array.from({ length: batch }, request));
    for (const a of answers) {
      if (a.status !== 'fulfilled') continue;
      const inBand =
        a.value.reply?.error && /rate.?limit|too many requests/i.test(a.value.reply.error.message);
      if (a.value.status === 429 || inBand) {
        limited = { status: a.value.status, retryAfter: a.value.headers.get('retry-after') };
        break;
      }
    }
  }
  if (!limited) {
    return [
      finding('ratelimit/no-limit', id, { kind: 'server' }, `${sent} ${what} in a burst, none limited`),
    ];
  }
  if (limited.status === 429 && limited.retryAfter === null) {
    return [
      finding(
        'ratelimit/no-retry-after',
        id,
        { kind: 'server' },
        `429 after ${sent} ${what}, without Retry-After`,
      ),
    ];
  }
  return [];
}
