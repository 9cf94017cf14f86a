/**
 * The headers the HTTP layer gives every answer (the security headers, the request id), in a
 * form a route can build its answer with. The middleware adds them to a finished Response one
 * by one, which turns @hono/node-server's plain-object headers into a Headers list (validated,
 * sorted, then copied back into an object to be written): about 10 µs a call. A route on the hot
 * path (the 2026-07-28 tools/call answer) puts them in its one plain header object instead and
 * marks the Response; the middleware leaves a marked Response alone.
 */
export interface CommonHeaders {
  /** Set only when the route did not set its own (referrer policy, CSP, cache control). */
  readonly defaults: Readonly<Record<string, string>>;
  /** Always set, over whatever the route set (nosniff, frame options, the request id…). */
  readonly fixed: Readonly<Record<string, string>>;
}

/**
 * The mark: a property on the Response itself (a WeakSet of every answer would be one more weak
 * table for each young-generation GC to sweep).
 */
const COMPLETE = Symbol('portcullis.commonHeaders');
type Marked = Response & { [COMPLETE]?: true };

/**
 * A Response whose headers are `{ ...defaults, ...own, ...fixed }`: every common header is in it
 * exactly as the middleware would have set it.
 */
export function withCommonHeaders(
  common: CommonHeaders,
  body: string,
  init: { status: number; headers: Readonly<Record<string, string>> },
): Response {
  const res = new Response(body, {
    status: init.status,
    headers: { ...common.defaults, ...init.headers, ...common.fixed },
  });
  (res as Marked)[COMPLETE] = true;
  return res;
}

/** Whether `res` was built by withCommonHeaders (the middleware then adds nothing). */
export function hasCommonHeaders(res: Response): boolean {
  return (res as Marked)[COMPLETE] === true;
}
