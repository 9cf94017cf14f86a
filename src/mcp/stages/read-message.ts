import { readJsonBody, wireErrorResponse, type WireCode } from '../../wire/index.js';
import type { RequestStage } from '../context.js';
import { clientWentAway } from '../render-http.js';

const BODY_PROBLEMS = {
  'too-large': ['body-too-large', 'Request body too large.'],
  'not-utf8': ['parse-error', 'Parse error: the body is not valid UTF-8.'],
  'not-json': ['parse-error', 'Parse error: the body is not valid JSON.'],
  'too-deep': ['bad-request', 'Invalid request: JSON nested too deeply.'],
  empty: ['bad-request', 'Invalid request: empty body.'],
} as const satisfies Record<string, readonly [WireCode, string]>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The read-message stage: byte cap, UTF-8, JSON depth scan, then parse (http/read-body.ts). */
export const readMessage: RequestStage = async (ctx, next) => {
  const { env } = ctx;
  const body = await readJsonBody(ctx.request, { limit: env.bodyLimitBytes, maxDepth: env.jsonMaxDepth });
  if (!body.ok) {
    if (body.problem === 'aborted') return clientWentAway(env.logger, ctx.requestId);
    const [code, message] = BODY_PROBLEMS[body.problem];
    return wireErrorResponse(code, message);
  }
  ctx.body = body;
  const { value } = body;
  ctx.id =
    isObject(value) && (typeof value.id === 'string' || typeof value.id === 'number') ? value.id : null;
  return next();
};
