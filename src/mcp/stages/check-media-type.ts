import { checkContentType } from '../check-request.js';
import type { RequestStage } from '../context.js';
import { refusalResponse } from '../render-http.js';

/** The check-media-type stage: 415 before the body is read (check-request.ts). */
export const checkMediaType: RequestStage = async (ctx, next) => {
  const badType = checkContentType(ctx.request.headers);
  return badType ? refusalResponse(badType, null) : next();
};
