import type { interactionPolicy, KoaContextWithOIDC } from 'oidc-provider';
import { NO_SCOPES } from '../policy/index.js';
import type { PersonCeilings } from '../users/index.js';

/**
 * The person's role as the ceiling of what the authorization server issues for the MCP resource.
 *
 * oidc-provider asks `getResourceServerInfo` for the resource server's scopes every time it
 * decides scopes: when it computes what consent is missing at /authorize, when it redeems a code,
 * and when it refreshes (the access token's scope is the grant's ∩ the request's ∩ these). So
 * filtering them here by the person's role caps every path at once — a consent page cannot offer
 * more, a crafted consent or /authorize request cannot add more, and a refresh after the role was
 * lowered gets the lower ceiling. The role is read at each issuance, never cached.
 */

/**
 * The person an issuance acts for: the grant being redeemed or refreshed (token endpoint), else
 * the signed-in session (authorization endpoint). Undefined for client credentials, where the
 * client acts for itself and the operator's limit for that client applies instead.
 */
function accountOf(ctx: KoaContextWithOIDC): string | undefined {
  return ctx.oidc.entities.Grant?.accountId ?? ctx.oidc.session?.accountId;
}

/** `scopes` (the resource server's, within the client's limit) cut to the acting person's role. */
export async function scopesWithinRole(
  ctx: KoaContextWithOIDC,
  scopes: readonly string[],
  people: PersonCeilings,
): Promise<string[]> {
  const accountId = accountOf(ctx);
  if (accountId === undefined) return [...scopes];
  // An account that is not (or no longer) a person here holds nothing.
  const ceiling = (await people.of(accountId)) ?? NO_SCOPES;
  return scopes.filter((s) => ceiling.allows(s));
}

/** The prompt reason of the check below, which the consent page reads. */
export const BEYOND_ROLE_REASON = 'scopes_beyond_role';

/**
 * A consent-prompt check: when every tool scope the app asked for is beyond the person's role,
 * show the consent page anyway, so the person reads why instead of being bounced back to the
 * app with a bare `access_denied`. The page then offers only "back to the app".
 *
 * `Check` is oidc-provider's class, passed in by create-provider.ts: this file is also read by
 * the consent page (for the reason above), which must not load oidc-provider before it is built.
 */
export function roleWithholdsAllCheck(
  Check: typeof interactionPolicy.Check,
  clientScopes: (ctx: KoaContextWithOIDC) => readonly string[],
) {
  return new Check(
    BEYOND_ROLE_REASON,
    'the requested scopes are beyond the role of the signed-in person',
    'access_denied',
    (ctx) => {
      if (ctx.oidc.result?.consent) return Check.NO_NEED_TO_PROMPT;
      const available = new Set(
        Object.values(ctx.oidc.resourceServers ?? {}).flatMap((rs) => [...rs.scopes]),
      );
      const limit = new Set(clientScopes(ctx));
      const requested = [...ctx.oidc.requestParamScopes];
      const withheld = requested.some((s) => limit.has(s) && !available.has(s));
      return withheld && !requested.some((s) => available.has(s));
    },
  );
}
