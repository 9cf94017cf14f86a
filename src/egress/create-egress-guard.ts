import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Agent } from 'undici';
import { PortcullisError } from '../errors/index.js';
import { checkUrl, type UrlPolicy } from './check-url.js';
import { compileAddressAllowList } from './classify-address.js';
import { createCheckedConnector, type Resolve } from './create-connector.js';
import { EgressError, isEgressError } from './errors.js';
import { compileHostPatterns, normaliseHost } from './match-host.js';
import { readBody, tooLarge } from './read-body.js';
import { loadUndici } from './load-undici.js';

export interface EgressGuardOptions {
  /** Host names the guard may reach: exact names, `*.example.com`, or `['*']` for any public host. */
  readonly allowHosts: readonly string[];
  /** Hosts that may be reached over plain http (same pattern syntax). Default: none. */
  readonly allowHttpHosts?: readonly string[];
  /**
   * CIDRs (or single addresses) the guard may connect to although they are internal, for an
   * operator who deliberately fronts an internal service. Default: none.
   */
  readonly allowAddresses?: readonly string[];
  /** Redirects followed per request, each one re-checked. Default 5. */
  readonly maxRedirects?: number;
  /** Largest response body accepted. Default 5 MiB. */
  readonly maxBytes?: number;
  /** Whole-request deadline: connect, every redirect hop and the body. Default 15 s. */
  readonly timeoutMs?: number;
  /** DNS resolution. Default: the system resolver (`dns.lookup`, all addresses). */
  readonly resolve?: Resolve;
}

export interface EgressRequestInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly signal?: AbortSignal;
  /**
   * Sees each piece of the final response's body as it arrives, with its status and headers (the
   * body is still bounded by `maxBytes` and the deadline, and still returned whole): for answers
   * that stream, such as an MCP server's event stream, read while they come.
   */
  readonly onChunk?: (
    chunk: Uint8Array,
    response: { readonly status: number; readonly headers: Headers },
  ) => void;
}

export interface EgressResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The URL that answered, after redirects. */
  readonly finalUrl: string;
  readonly bytes: Uint8Array;
  /** The body decoded with the charset the response declared (UTF-8 when absent or unknown). */
  text(): string;
}

/** A TLS stream the guard opened (see `EgressGuard.connectTls`). */
export interface TlsTarget {
  readonly host: string;
  readonly port: number;
  /** Trust anchors (PEM) instead of the system's, for a receiver with a private CA. */
  readonly ca?: string;
}

export interface EgressGuard {
  fetch(url: string | URL, init?: EgressRequestInit): Promise<EgressResponse>;
  /**
   * A raw TLS connection for protocols other than HTTP (syslog over TLS, RFC 5425). The same
   * policy as `fetch` to an https URL on that host and port: host allow-list, address checks at
   * connect time, certificate verified against the host name, the guard's connect deadline.
   */
  connectTls(target: TlsTarget): Promise<Duplex>;
  /** Closes pooled connections; for shutdown and tests. */
  close(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/**
 * The caller's headers that may follow a redirect to another origin; every other one is dropped.
 * RFC 9110 §15.4: a client following a redirect should remove header fields that are not
 * appropriate for the new target; the Fetch standard drops Authorization on a cross-origin
 * redirect (§4.4 HTTP-redirect fetch). An allow-list, not a list of known credential headers:
 * `x-api-key`, `x-vault-token`, a webhook signature or a tenant header belongs to the first
 * origin as much as Authorization and Cookie do, and the guard cannot tell which ones are
 * secret. What stays describes the client, not its rights: Fetch's CORS-safelisted request
 * headers (accept, accept-language, content-language) and user-agent. `content-type` stays only
 * while the body does (a 307/308 resends it, RFC 9110 §15.4.8); with the body dropped
 * (303, or 301/302 after POST) it goes too.
 */
const CROSS_ORIGIN_KEPT = new Set(['accept', 'accept-language', 'content-language', 'user-agent']);

const systemResolve: Resolve = (hostname) => lookup(hostname, { all: true, verbatim: true });

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) {
    throw new PortcullisError('config-invalid', `egress: ${name} must be a non-negative integer`);
  }
  return v;
}

function compileOrThrow<T>(compile: () => T, name: string): T {
  try {
    return compile();
  } catch (err) {
    throw new PortcullisError('config-invalid', `egress: ${name} has an invalid entry`, {
      detail: err instanceof Error ? err.message : String(err),
      cause: err,
    });
  }
}

function decode(bytes: Uint8Array, contentType: string | null): string {
  const charset = /;\s*charset="?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function findEgressError(err: unknown): EgressError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isEgressError(e)) return e;
  }
  return undefined;
}

/**
 * The one way out to the network. Every outbound HTTP request of the gateway goes through a guard,
 * which refuses what its policy does not allow and checks addresses at connect time on every hop.
 * Its own undici Agent is used (never the global dispatcher), so proxy environment variables and
 * other code's dispatcher settings play no part.
 */
export function createEgressGuard(options: EgressGuardOptions): EgressGuard {
  const policy: UrlPolicy = {
    allowHosts: compileOrThrow(() => compileHostPatterns(options.allowHosts), 'allowHosts'),
    allowHttpHosts: compileOrThrow(() => compileHostPatterns(options.allowHttpHosts ?? []), 'allowHttpHosts'),
    allowAddresses: compileOrThrow(
      () => compileAddressAllowList(options.allowAddresses ?? []),
      'allowAddresses',
    ),
  };
  const maxRedirects = positiveInteger(options.maxRedirects, 5, 'maxRedirects');
  const maxBytes = positiveInteger(options.maxBytes, 5 * 1024 * 1024, 'maxBytes');
  const timeoutMs = positiveInteger(options.timeoutMs, 15_000, 'timeoutMs');
  // Made by the first request: a guard that is built at start but never used (a tool nobody
  // calls, an authorization server nobody visits) costs no undici.
  // A failed first load is not kept: the next request tries again (lazy/import-again.ts).
  let agent: Promise<Agent> | undefined;
  const agentOf = () =>
    (agent ??= Promise.all([
      loadUndici(),
      createCheckedConnector(options.resolve ?? systemResolve, policy.allowAddresses, timeoutMs),
    ]).then(
      ([{ Agent }, connect]) => new Agent({ connect }),
      (err: unknown) => {
        agent = undefined;
        throw err;
      },
    ));

  async function send(
    url: string | URL,
    init: EgressRequestInit,
    signal: AbortSignal,
  ): Promise<EgressResponse> {
    let current = checkUrl(url, policy);
    let method = (init.method ?? 'GET').toUpperCase();
    let body = init.body;
    const headers = new Headers(init.headers);
    // The Host header is derived from the checked URL only; a caller-supplied one would let a
    // request to an allowed name be routed to another virtual host behind the same address.
    headers.delete('host');
    const dispatcher = await agentOf();
    for (let hop = 0; ; hop++) {
      const res = await dispatcher.request({
        origin: current.origin,
        path: current.pathname + current.search,
        method,
        headers: Object.fromEntries(headers),
        body,
        signal,
      });
      const resHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : [value ?? '']) resHeaders.append(name, v);
      }
      const location = resHeaders.get('location');
      if (REDIRECTS.has(res.statusCode) && location !== null) {
        await res.body.dump();
        if (hop >= maxRedirects) {
          throw new EgressError(
            'egress-too-many-redirects',
            `Refused: more than ${maxRedirects} redirects starting from "${normaliseHost(new URL(url).hostname)}".`,
          );
        }
        const next = checkUrl(location, policy, current);
        if (next.origin !== current.origin) {
          // Once dropped, a header stays dropped, even if a later hop comes back to this origin.
          const keep = (name: string) =>
            CROSS_ORIGIN_KEPT.has(name) || (name === 'content-type' && body !== undefined);
          for (const name of [...headers.keys()]) if (!keep(name)) headers.delete(name);
        }
        // Fetch §4.4: 303 turns anything but HEAD into GET, and 301/302 turn POST into GET.
        if ((res.statusCode === 303 && method !== 'HEAD') || (res.statusCode <= 302 && method === 'POST')) {
          method = 'GET';
          body = undefined;
          headers.delete('content-type');
          headers.delete('content-length');
        }
        current = next;
        continue;
      }
      const host = normaliseHost(current.hostname);
      const declared = Number(resHeaders.get('content-length'));
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.body.destroy();
        throw tooLarge(host, maxBytes);
      }
      const onChunk = init.onChunk;
      const seen = { status: res.statusCode, headers: resHeaders };
      const bytes = await readBody(res.body, maxBytes, host, onChunk && ((chunk) => onChunk(chunk, seen)));
      const contentType = resHeaders.get('content-type');
      return {
        status: res.statusCode,
        headers: resHeaders,
        finalUrl: current.href,
        bytes,
        text: () => decode(bytes, contentType),
      };
    }
  }

  async function connectTls(target: TlsTarget): Promise<Duplex> {
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535)
      throw new EgressError('egress-invalid-url', 'Refused: the port is not a TCP port.');
    // A host name or an address, nothing a URL parser would read as more: `siem.example/@10.0.0.1`
    // or `a.example#x` would otherwise connect to a host other than the one written.
    if (!/^[A-Za-z0-9.:-]+$/.test(target.host))
      throw new EgressError('egress-invalid-url', 'Refused: the host is not a host name or an IP address.');
    const literal = target.host.includes(':') ? `[${target.host}]` : target.host;
    const url = checkUrl(`https://${literal}:${target.port}/`, policy);
    const connect = await createCheckedConnector(
      options.resolve ?? systemResolve,
      policy.allowAddresses,
      timeoutMs,
      target.ca !== undefined ? { ca: target.ca } : undefined,
    );
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      connect(
        {
          hostname,
          host: url.host,
          protocol: 'https:',
          port: String(target.port),
          // RFC 6066 §3: SNI carries host names only, never an address literal.
          ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
        },
        (err, socket) => (err !== null ? reject(err) : resolve(socket)),
      );
    });
  }

  return {
    connectTls,
    async fetch(url, init = {}) {
      const deadline = AbortSignal.timeout(timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
      try {
        return await send(url, init, signal);
      } catch (err) {
        const known = findEgressError(err);
        if (known) throw known;
        const host = `"${normaliseHost(new URL(url).hostname)}"`;
        if (deadline.aborted) {
          throw new EgressError(
            'egress-timeout',
            `The request to ${host} did not finish within ${timeoutMs} ms.`,
            {
              cause: err,
            },
          );
        }
        if (init.signal?.aborted) {
          throw new EgressError('egress-aborted', `The request to ${host} was cancelled.`, { cause: err });
        }
        throw new EgressError('egress-network-error', `The request to ${host} failed at the network level.`, {
          detail: err instanceof Error ? err.message : String(err),
          cause: err,
        });
      }
    },
    close: async () => {
      if (agent)
        await agent.then(
          (a) => a.close(),
          () => undefined,
        );
    },
  };
}
