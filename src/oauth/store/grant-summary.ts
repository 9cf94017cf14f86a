import type { GrantSummary, ModelPayload } from './contracts.js';

/** The person-facing view of an oidc-provider Grant payload, shared by every backend. */
export function grantSummary(id: string, payload: ModelPayload, expiresAt: Date | null): GrantSummary {
  const resources = (payload.resources ?? {}) as Record<string, string>;
  const scopes = new Set<string>();
  for (const scope of Object.values(resources)) for (const s of scope.split(' ')) if (s) scopes.add(s);
  return {
    id,
    accountId: String(payload.accountId ?? ''),
    clientId: String(payload.clientId ?? ''),
    scopes: [...scopes].sort(),
    createdAt: new Date(Number(payload.iat ?? 0) * 1000),
    expiresAt,
  };
}
