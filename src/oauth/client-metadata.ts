/**
 * Client metadata only the server writes. `createClient` (the CLI, later the admin console)
 * stores it beside the standard fields; a registrant — a Dynamic Client Registration request or a
 * Client ID Metadata Document — that sends any of it is refused (see check-client-metadata.ts),
 * so its presence on a stored client means an operator created that client.
 */

/** The scopes an operator-created client is limited to: its ceiling, for every grant. */
export const CLIENT_SCOPES_PROPERTY = 'portcullis_scopes';

/** Who created the client; `operator` is the only value, written only by `createClient`. */
export const CLIENT_CREATED_BY_PROPERTY = 'portcullis_created_by';

/** Every server-side property; all share the prefix a registrant may not use. */
export const SERVER_SIDE_PREFIX = 'portcullis_';
export const SERVER_SIDE_PROPERTIES = [CLIENT_SCOPES_PROPERTY, CLIENT_CREATED_BY_PROPERTY] as const;

/** Whether stored client metadata says an operator created the client. */
export function isOperatorClient(metadata: Readonly<Record<string, unknown>> | undefined): boolean {
  return metadata?.[CLIENT_CREATED_BY_PROPERTY] === 'operator';
}

/** The operator's scope ceiling for a client, or undefined when none is on record. */
export function clientScopeLimit(metadata: Readonly<Record<string, unknown>>): readonly string[] | undefined {
  const limit = metadata[CLIENT_SCOPES_PROPERTY];
  return Array.isArray(limit) && limit.every((s) => typeof s === 'string') ? limit : undefined;
}
