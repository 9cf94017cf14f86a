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

/**
 * Characters no client metadata needs and that change how it reads where it is shown: C0 and C1
 * controls (an escape sequence in `client_name` reaches the operator's terminal through
 * `portcullis clients list`: OSC 52 writes their clipboard, CSI erases and rewrites lines) and
 * the bidi embeddings, overrides, isolates and marks (they reorder the consent page's sentence
 * around the name). Zero-width joiners stay: scripts need them; the pages show them by name.
 */
const BIDI_FORMATTING: ReadonlySet<number> = new Set([
  0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
]);
const undisplayable = (text: string): boolean =>
  [...text].some((ch) => {
    const cp = ch.codePointAt(0)!;
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || BIDI_FORMATTING.has(cp);
  });

/** The first metadata field (a string, or a string in a list) holding such a character. */
function undisplayableField(metadata: Readonly<Record<string, unknown>>): string | undefined {
  for (const [key, value] of Object.entries(metadata)) {
    const strings: readonly unknown[] =
      typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
    if (strings.some((v) => typeof v === 'string' && undisplayable(v))) return key;
  }
  return undefined;
}

export function checkSelfAssertedMetadata(
  metadata: Readonly<Record<string, unknown>>,
  source: MetadataSource,
): string | undefined {
  const reserved = Object.keys(metadata).find((k) => k.startsWith(SERVER_SIDE_PREFIX));
  if (reserved) return `${reserved} is set by the server, not by the client`;
  const undisplayable = undisplayableField(metadata);
  if (undisplayable) {
    return `${undisplayable} contains control or bidi formatting characters, which no client metadata needs`;
  }

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
