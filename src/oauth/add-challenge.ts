import type { MiddlewareHandler } from 'hono';

/**
 * Completes the Bearer challenges of /mcp for OAuth clients (MCP authorization spec, RFC 9728
 * §5.1): every 401 and 403 names the protected-resource metadata, and a 401 names the scopes to
 * ask for. The challenge itself — bare for a missing credential (RFC 6750 §3.1), `invalid_token`
 * or `insufficient_scope` otherwise — is shaped in src/http/responses.ts; this adds parameters.
 */
export function addOAuthChallenge(opts: {
  resourceMetadataUrl: string;
  challengeScopes: () => readonly string[];
}): MiddlewareHandler {
  const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
  return async function addOAuthChallengeMiddleware(c, next) {
    await next();
    const { status } = c.res;
    // The status first: reading the headers of a 200 would turn its plain header object into a
    // Headers list for nothing (wire/common-headers.ts).
    if (status !== 401 && status !== 403) return;
    const challenge = c.res.headers.get('www-authenticate');
    if (!challenge?.startsWith('Bearer')) return;
    const params = [`resource_metadata=${quote(opts.resourceMetadataUrl)}`];
    if (status === 401) {
      const scopes = opts.challengeScopes();
      if (scopes.length) params.push(`scope=${quote(scopes.join(' '))}`);
    }
    const rest = challenge.slice('Bearer'.length).trim();
    const value = `Bearer ${params.join(', ')}${rest ? `, ${rest}` : ''}`;
    // The challenges come from src/http/responses.ts, whose Responses have mutable headers.
    c.res.headers.set('www-authenticate', value);
  };
}
