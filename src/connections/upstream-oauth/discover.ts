import * as oidc from 'openid-client';
import type { EgressGuard } from '../../egress/index.js';
import type { UpstreamOAuthResult, UpstreamOAuthSettings } from '../upstream-oauth-contract.js';
import { refused, toFailure } from './failure.js';
import { chooseIssuer, fetchResourceMetadata } from './resource-metadata.js';

/** An upstream's authorization server as discovered: its issuer and RFC 8414 metadata. */
export interface DiscoveredServer {
  readonly issuer: string;
  readonly metadata: oidc.ServerMetadata;
}

export interface DiscoveryDeps {
  readonly guard: EgressGuard;
  readonly fetch: oidc.CustomFetch;
  readonly timeoutMs: number;
}

/** openid-client refuses plain http unless told; the guard (allowHttpHosts) is what decides. */
export const insecureFor = (issuer: string) =>
  new URL(issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [];

/**
 * RFC 8414 metadata of the issuer, then OIDC discovery (MCP authorization spec: try both).
 * openid-client checks that the document's `issuer` is the issuer asked for (RFC 8414 §3.3).
 * An egress refusal is final: the other well-known URL is on the same host.
 */
async function fetchServerMetadata(
  issuer: string,
  deps: DiscoveryDeps,
): Promise<UpstreamOAuthResult<oidc.ServerMetadata>> {
  let last: unknown;
  for (const algorithm of ['oauth2', 'oidc'] as const) {
    try {
      const config = await oidc.discovery(new URL(issuer), 'discovery', undefined, undefined, {
        [oidc.customFetch]: deps.fetch,
        algorithm,
        timeout: Math.ceil(deps.timeoutMs / 1000),
        execute: insecureFor(issuer),
      });
      return { ok: true, value: config.serverMetadata() };
    } catch (err) {
      const failure = toFailure(err, `authorization server metadata (${algorithm})`);
      if (failure.reason === 'refused') return failure;
      last = err;
    }
  }
  return toFailure(last, 'authorization server metadata');
}

/**
 * From the upstream MCP URL to its AS: RFC 9728 resource metadata → issuer (checked against the
 * configured one) → RFC 8414 / OIDC metadata. Every request goes through the egress guard, so an
 * upstream naming an AS on an internal address only learns that the guard said no.
 */
export async function discoverServer(
  settings: UpstreamOAuthSettings,
  deps: DiscoveryDeps,
): Promise<UpstreamOAuthResult<DiscoveredServer>> {
  const resource = await fetchResourceMetadata(deps.guard, settings.resource, deps.timeoutMs);
  if (!resource.ok) return resource;
  const issuer = chooseIssuer(settings.issuer, resource.value);
  if (!issuer.ok) return issuer;
  const metadata = await fetchServerMetadata(issuer.value, deps);
  if (!metadata.ok) return metadata;
  // MCP authorization spec (PKCE): when the AS does not say it supports S256, the client MUST
  // refuse to proceed — a code without PKCE is a code anyone who sees it can redeem.
  if (!metadata.value.code_challenge_methods_supported?.includes('S256')) {
    return refused(`authorization server ${issuer.value} does not advertise PKCE S256`);
  }
  return { ok: true, value: { issuer: metadata.value.issuer, metadata: metadata.value } };
}

/**
 * Discovery results kept for a short while per upstream (and per resource and configured
 * issuer, so a changed configuration is discovered afresh). Failures are not kept: the next
 * attempt asks again.
 */
export function createDiscoveryCache(ttlMs: number, now: () => number) {
  const entries = new Map<string, { at: number; value: Promise<UpstreamOAuthResult<DiscoveredServer>> }>();
  return (
    settings: UpstreamOAuthSettings,
    discover: () => Promise<UpstreamOAuthResult<DiscoveredServer>>,
  ): Promise<UpstreamOAuthResult<DiscoveredServer>> => {
    const key = JSON.stringify([settings.upstream, settings.resource, settings.issuer ?? null]);
    const hit = entries.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    const value = discover().then((result) => {
      if (!result.ok && entries.get(key)?.value === value) entries.delete(key);
      return result;
    });
    entries.set(key, { at: now(), value });
    return value;
  };
}
