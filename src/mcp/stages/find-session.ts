import { given, type RequestStage } from '../context.js';

/**
 * The find-session stage: the Mcp-Session-Id, bound to the credential that opened it — held
 * here, or taken over from its shared record when another replica opened it. A missing session
 * is not an exit yet (a tools/call records it first).
 */
export const findSession: RequestStage = async (ctx, next) => {
  if (ctx.sessionId) {
    const session = await ctx.env.sessions.load(ctx.sessionId, given(ctx.principal, 'principal'));
    if (session) ctx.session = session;
  }
  return next();
};
