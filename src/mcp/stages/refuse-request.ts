import { given, type RequestStage } from '../context.js';
import { refusalResponse, sessionNotFound } from '../render-http.js';

/** The refuse-request stage: any other method refused by its shape or session, before the SDK. */
export const refuseRequest: RequestStage = async (ctx, next) => {
  const checked = given(ctx.checked, 'checked');
  if (checked.refusal) return refusalResponse(checked.refusal, ctx.id);
  if (ctx.sessionId && !ctx.session) return sessionNotFound();
  return next();
};
