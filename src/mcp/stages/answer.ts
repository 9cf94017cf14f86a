import { given, resultEnding, type CallStage } from '../context.js';
import { finish } from './finish.js';

/** The last stage: the secured result is the answer (a tool-reported error stays one). */
export const answer: CallStage = async (ctx) => {
  const failed = given(ctx.out, 'out').isError === true;
  return finish(
    ctx,
    resultEnding(
      ctx,
      given(ctx.result, 'result'),
      failed ? 'failed' : 'ok',
      failed ? 'tool-error' : undefined,
    ),
  );
};
