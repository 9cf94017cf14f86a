import type { EgressGuard } from '../../egress/index.js';
import type { UpstreamOAuthResult } from '../upstream-oauth-contract.js';
import { refused, toFailure, unavailable } from './failure.js';

/** What the gateway uses of an upstream's RFC 9728 protected resource metadata. */
export interface ResourceMetadata {
  readonly resource: string;
  readonly authorizationServers: readonly string[];
}

/**
 * Where an upstream's metadata is looked for. RFC 9728 §3.1: the well-known suffix goes between
 * the host and the resource's path (`https://api.example/mcp` →
 * `https://api.example/.well-known/oauth-protected-resource/mcp`); the MCP authorization spec
 * then falls back to the root document for servers that publish only that one.
 */
export function resourceMetadataUrls(resource: string): URL[] {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const at = (suffix: string) => new URL(`/.well-known/oauth-protected-resource${suffix}`, url.origin);
  return path ? [at(path), at('')] : [at('')];
}

/** RFC 3986 §6.2.3 scheme-based normalisation (case, default port, empty path), so `https://as.example` = `https://as.example/`. */
export function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/**
 * Whether a metadata document's `resource` speaks for `resource`. RFC 9728 §3.3: it MUST be
 * identical to the resource whose well-known URL it was fetched from — otherwise one server
 * could publish metadata for another and send its people to an AS of its choosing. The root
 * document (the MCP fallback) may name the origin or a path above the MCP URL, as the MCP SDKs
 * accept: same origin, and a whole-segment prefix of the path.
 */
export function metadataCovers(named: string, resource: string, exact: boolean): boolean {
  if (sameUrl(named, resource)) return true;
  if (exact) return false;
  try {
    const a = new URL(named);
    const b = new URL(resource);
    if (a.origin !== b.origin || a.search || a.hash) return false;
    const prefix = a.pathname.endsWith('/') ? a.pathname : `${a.pathname}/`;
    return b.pathname.startsWith(prefix);
  } catch {
    return false;
  }
}

/**
 * Checks a metadata document (pure): its `resource` (see metadataCovers), and authorization
 * servers that are absolute http(s) URLs without userinfo or fragment.
 */
export function parseResourceMetadata(
  body: unknown,
  resource: string,
  exact = true,
): UpstreamOAuthResult<ResourceMetadata> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return unavailable('resource metadata: not a JSON object');
  }
  const doc = body as Record<string, unknown>;
  if (typeof doc.resource !== 'string' || !metadataCovers(doc.resource, resource, exact)) {
    return refused(`resource metadata: names resource ${JSON.stringify(doc.resource)}, not ${resource}`);
  }
  const listed = doc.authorization_servers;
  if (listed === undefined) return { ok: true, value: { resource, authorizationServers: [] } };
  if (!Array.isArray(listed) || !listed.every((s) => typeof s === 'string')) {
    return unavailable('resource metadata: authorization_servers is not a list of strings');
  }
  for (const issuer of listed) {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      return unavailable(`resource metadata: authorization server ${JSON.stringify(issuer)} is not a URL`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.hash) {
      return refused(
        `resource metadata: authorization server ${JSON.stringify(issuer)} is not an issuer URL`,
      );
    }
  }
  return { ok: true, value: { resource, authorizationServers: listed } };
}

/**
 * The AS to use (pure). With an operator-configured issuer, the upstream's metadata must list
 * it (when the upstream publishes metadata at all): an upstream that names another AS is either
 * misconfigured or trying to move its people's consent elsewhere, and the gateway refuses rather
 * than guess. Without one, the first listed AS is used (RFC 9728 §7.6 leaves the choice to the
 * client; an operator who needs another one configures it).
 */
export function chooseIssuer(
  configured: string | undefined,
  metadata: ResourceMetadata | undefined,
): UpstreamOAuthResult<string> {
  if (configured !== undefined) {
    if (metadata && !metadata.authorizationServers.some((s) => sameUrl(s, configured))) {
      return refused(
        `the upstream's resource metadata lists ${JSON.stringify(metadata.authorizationServers)}, not the configured issuer ${configured}`,
      );
    }
    return { ok: true, value: configured };
  }
  const first = metadata?.authorizationServers[0];
  if (first === undefined) {
    return unavailable(
      metadata
        ? "the upstream's resource metadata lists no authorization server; configure an issuer"
        : 'the upstream publishes no RFC 9728 resource metadata; configure an issuer',
    );
  }
  return { ok: true, value: first };
}

/**
 * Fetches the upstream's RFC 9728 metadata through the egress guard: the path-aware document,
 * then the root one. `undefined` when neither exists (404/410); any other failure is a failure.
 */
export async function fetchResourceMetadata(
  guard: EgressGuard,
  resource: string,
  timeoutMs: number,
): Promise<UpstreamOAuthResult<ResourceMetadata | undefined>> {
  const urls = resourceMetadataUrls(resource);
  for (const [index, url] of urls.entries()) {
    let res;
    try {
      res = await guard.fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      return toFailure(err, 'resource metadata');
    }
    if (res.status === 404 || res.status === 410) continue;
    if (res.status !== 200)
      return unavailable(`resource metadata: ${url.pathname} answered HTTP ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(res.text());
    } catch {
      return unavailable(`resource metadata: ${url.pathname} is not JSON`);
    }
    // Only the path-aware document (the first) must name exactly this resource.
    return parseResourceMetadata(body, resource, index === 0 && urls.length > 1);
  }
  return { ok: true, value: undefined };
}
