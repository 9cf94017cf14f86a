import type { Logger } from 'pino';
import { CLIENT_CLOSED_REQUEST, jsonRpcErrorResponse, wireErrorResponse } from '../wire/index.js';
import type { Refusal } from './check-request.js';
import type { JsonRpcId } from './context.js';

/** Adds headers (RateLimit) to a response the SDK built; its headers may be immutable. */
export function withHeaders(response: Response, headers: Record<string, string> | undefined): Response {
  if (!headers || Object.keys(headers).length === 0) return response;
  const merged = new Headers(response.headers);
  for (const [k, v] of Object.entries(headers)) merged.set(k, v);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: merged,
  });
}

export const refusalResponse = (r: Refusal, id: JsonRpcId) =>
  jsonRpcErrorResponse(r.status, r.code, r.message, {
    id,
    ...(r.data === undefined ? {} : { data: r.data }),
  });

/** The client is gone: nothing to answer, nothing to alert on (counted as 499). */
export function clientWentAway(logger: Logger, requestId: string): Response {
  logger.debug({ requestId }, 'client went away before the answer');
  return new Response(null, { status: CLIENT_CLOSED_REQUEST });
}

// Unknown, expired and other-credential sessions look the same from outside: 404, which the
// MCP spec tells clients to answer by initialising a new session.
export const sessionNotFound = () => wireErrorResponse('session-not-found', SESSION_NOT_FOUND);

export const SESSION_NOT_FOUND = 'Session not found.';
