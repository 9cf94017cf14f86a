import { ProtocolError } from '@modelcontextprotocol/server';
import { JSON_RPC, wireErrorResponse } from '../../wire/index.js';
import { given, requestMeta, type RequestStage } from '../context.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Resource URIs one subscriptions/listen may name. */
const MAX_LISTENED = 256;

/**
 * The check-listen stage: a 2026-07-28 subscriptions/listen may name only resources the caller
 * may read (stages/subscribe.ts), each subscribed upstream and recorded, before the SDK opens
 * the stream. List-change subscriptions carry no data and need no check.
 */
export const checkListen: RequestStage = async (ctx, next) => {
  const body = given(ctx.body, 'body');
  if (!isObject(body.value) || body.value.method !== 'subscriptions/listen') return next();
  const params = isObject(body.value.params) ? body.value.params : {};
  const uris = isObject(params.notifications) ? params.notifications.resourceSubscriptions : undefined;
  if (!Array.isArray(uris)) return next();
  if (uris.length > MAX_LISTENED || !uris.every((u) => typeof u === 'string'))
    return wireErrorResponse(
      'invalid-params',
      `Invalid params: at most ${MAX_LISTENED} resource URIs (strings).`,
      {
        id: ctx.id,
      },
    );
  const principal = given(ctx.principal, 'principal');
  const meta = requestMeta(ctx, body.bytes);
  for (const uri of new Set<string>(uris)) {
    try {
      await ctx.env.pipeline.subscribe(principal, meta, uri, 'subscribe');
    } catch (err) {
      if (err instanceof ProtocolError && err.code === JSON_RPC.rateLimited) {
        const retry = (err.data as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 1;
        return wireErrorResponse('rate-limited', err.message, {
          id: ctx.id,
          headers: { 'retry-after': String(retry) },
        });
      }
      if (err instanceof ProtocolError)
        return wireErrorResponse('invalid-params', err.message, { id: ctx.id });
      throw err;
    }
  }
  return next();
};
