import { SERVER_SIDE_PREFIX } from './client-metadata.js';

/**
 * What a client that vouches for itself may ask for. Dynamic Client Registration (RFC 7591) is
 * open to anyone who can reach the gateway, and a Client ID Metadata Document is its publisher's
 * own word; neither has an operator or a person behind it. Such a client may only act for a
 * person who signs in and consents (the authorization code grant and its refresh tokens), never
 * for itself: `client_credentials` would hand tool access to whoever registered.
 *
 * Pure: returns the public description of the first problem (RFC 7591 §3.2.2
 * `invalid_client_metadata`), or undefined when the metadata is acceptable.
 */

const PERSON_GRANTS: ReadonlySet<string> = new Set(['authorization_code', 'refresh_token']);
const APPLICATION_TYPES: ReadonlySet<string> = new Set(['web', 'native']);

export type MetadataSource = 'registration' | 'metadata-document';

export function checkSelfAssertedMetadata(
  metadata: Readonly<Record<string, unknown>>,
  source: MetadataSource,
): string | undefined {
  const reserved = Object.keys(metadata).find((k) => k.startsWith(SERVER_SIDE_PREFIX));
  if (reserved) return `${reserved} is set by the server, not by the client`;

  const grants: unknown = metadata.grant_types;
  if (grants !== undefined) {
    if (!Array.isArray(grants)) return 'grant_types must be an array';
    const list: readonly unknown[] = grants;
    if (list.includes('client_credentials')) {
      return (
        'client_credentials is not available to self-registered clients: it acts for no person. ' +
        'Ask the operator for a client (portcullis clients create --grant client_credentials).'
      );
    }
    const other = list.find((g) => typeof g !== 'string' || !PERSON_GRANTS.has(g));
    if (other !== undefined) return 'grant_types may contain only authorization_code and refresh_token';
  }

  // MCP authorization (2026-07-28) requires clients to send application_type when registering,
  // so the server applies the right redirect rules (RFC 8252 for native apps); OIDC Dynamic
  // Registration §2 would otherwise default it to `web`. Metadata documents predate the rule.
  if (source === 'registration') {
    const type = metadata.application_type;
    if (type === undefined) {
      return 'application_type is required: "native" for an app on the person\'s device (loopback or custom-scheme redirect URIs), "web" for an app served from a web server';
    }
    if (typeof type !== 'string' || !APPLICATION_TYPES.has(type)) {
      return 'application_type must be "native" or "web"';
    }
  }
  return undefined;
}
