import { jsonRpcErrorResponse } from '../../http/responses.js';
import { readJsonBody } from '../../http/read-body.js';
import type { RequestStage } from '../context.js';
import { clientWentAway } from '../render-http.js';

const BODY_PROBLEMS = {
  'too-large': [413, -32600, 'Request body too large.'],
  'not-utf8': [400, -32700, 'Parse error: the body is not valid UTF-8.'],
  'not-json': [400, -32700, 'Parse error: the body is not valid JSON.'],
  'too-deep': [400, -32600, 'Invalid request: JSON nested too deeply.'],
  empty: [400, -32600, 'Invalid request: empty body.'],
} as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The read-message stage: byte cap, UTF-8, JSON depth scan, then parse (http/read-body.ts). */
export const readMessage: RequestStage = async (ctx, next) => {
  const { env } = ctx;
  const body = await readJsonBody(ctx.request, { limit: env.bodyLimitBytes, maxDepth: env.jsonMaxDepth });
  if (!body.ok) {
    if (body.problem === 'aborted') return clientWentAway(env.logger, ctx.requestId);
    const [status, code, message] = BODY_PROBLEMS[body.problem];
    return jsonRpcErrorResponse(status, code, message);
  }
  ctx.body = body;
  const { value } = body;
  ctx.id =
    isObject(value) && (typeof value.id === 'string' || typeof value.id === 'number') ? value.id : null;
  return next();
};
