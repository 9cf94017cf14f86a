/**
 * A fetch-style request body as the egress guard takes it. A form (URLSearchParams, what OAuth
 * token, revocation and introspection requests send) becomes its urlencoded string with the
 * matching content type. A body of any other kind is an error rather than silently dropped: a
 * request sent without its body fails in ways that are hard to trace (a token endpoint answering
 * "invalid_request").
 */
export function guardRequestBody(
  body: RequestInit['body'],
  headers: Record<string, string>,
): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('egress: unsupported request body type');
}
