import { given, requestMeta, type RequestStage } from '../context.js';
import { toAuthInfo } from '../request-state.js';
import { sessionNotFound } from '../render-http.js';

/** The serve-stream stage: GET (a session's stream) and DELETE go to the SDK or the session. */
export const serveStream: RequestStage = async (ctx, next) => {
  if (ctx.request.method === 'POST') return next();
  const principal = given(ctx.principal, 'principal');
  const authInfo = toAuthInfo({ principal, meta: requestMeta(ctx, 0) });
  if (!ctx.sessionId) return ctx.env.handler.fetch(ctx.request, { authInfo });
  const session = await ctx.env.sessions.load(ctx.sessionId, principal);
  return session ? session.transport.handleRequest(ctx.request, { authInfo }) : sessionNotFound();
};
