import { checkMessage } from '../check-request.js';
import { given, type RequestStage } from '../context.js';

/**
 * The check-message stage: one JSON-RPC message, the SDK's era classification, the era's
 * header rules (check-request.ts). A refusal is not an exit yet: a refused tools/call still
 * goes to its flow, which records it.
 */
export const checkRequestMessage: RequestStage = async (ctx, next) => {
  ctx.checked = checkMessage(ctx.request.headers, given(ctx.body, 'body').value);
  return next();
};
