import { inputRequired, SERVER_INFO_META_KEY } from '@modelcontextprotocol/server';
import { CONFIRM_KEY, confirmSchema } from '../approvals/index.js';
import type { ToolCallOutcome } from './context.js';
import { HTTP_STATUS, JSON_RPC, withCommonHeaders, type CommonHeaders } from '../wire/index.js';
import { SERVER_INFO } from './protocol.js';

type JsonRpcId = string | number | null;

const META = { [SERVER_INFO_META_KEY]: SERVER_INFO };
/** What the answer adds after the result's own members, as JSON (the same for every answer). */
const RESULT_TAIL = `"resultType":"complete","_meta":${JSON.stringify(META)}}`;

/**
 * The JSON of `{ result: { ...result, resultType: 'complete', _meta }, jsonrpc: '2.0', id }`,
 * built around the result's JSON text, which is byte for byte what JSON.stringify of that
 * object gives when the result has neither member of its own (the spread would replace them; a
 * second copy of a key in the text would leave it to the client's parser which one counts).
 * Undefined otherwise, and the caller serialises the object.
 */
function completeResultJson(result: object, resultJson: string, id: JsonRpcId): string | undefined {
  if (Object.hasOwn(result, 'resultType') || Object.hasOwn(result, '_meta')) return undefined;
  if (resultJson.length < 2 || resultJson.charCodeAt(resultJson.length - 1) !== 0x7d) return undefined;
  const members = resultJson.slice(0, -1);
  return `{"result":${members}${members.length > 1 ? ',' : ''}${RESULT_TAIL},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;
}

/**
 * Frames a finished tools/call outcome as the 2026-07-28 JSON answer, exactly as the SDK's
 * per-request handler would (frame-tool-call.test.ts holds the two side by side).
 *
 * Why not let the SDK do it: a 2026-07-28 tools/call is stateless and, by the time it gets
 * here, fully handled by the pipeline; building a Server, a transport and a second parse per
 * request only to serialise one object was most of the cost of a call (see bench/). Everything
 * else — 2025 traffic, sessions, discovery, tools/list — still goes through the SDK.
 */
export function frameModernToolCall(
  id: JsonRpcId,
  outcome: Extract<ToolCallOutcome, { kind: 'result' | 'rpc-error' | 'input-required' }>,
  extraHeaders?: Readonly<Record<string, string>>,
  common?: CommonHeaders,
): Response {
  const meta = { _meta: META };
  let body;
  let text: string | undefined;
  switch (outcome.kind) {
    case 'result':
      text = outcome.resultJson && completeResultJson(outcome.result, outcome.resultJson, id);
      body = text ?? { result: { ...outcome.result, resultType: 'complete', ...meta }, jsonrpc: '2.0', id };
      break;
    case 'input-required':
      body = { result: { ...confirmationRequest(outcome), ...meta }, jsonrpc: '2.0', id };
      break;
    case 'rpc-error':
      body = {
        jsonrpc: '2.0',
        id,
        error: {
          code: outcome.code,
          message: outcome.message,
          ...(outcome.data !== undefined ? { data: outcome.data } : {}),
        },
      };
  }
  // The one handler error with an HTTP status of its own (2026-07-28 basic/lifecycle), as the SDK's.
  const status =
    outcome.kind === 'rpc-error' && outcome.code === JSON_RPC.missingCapability
      ? HTTP_STATUS.badRequest
      : HTTP_STATUS.ok;
  // One Response with a string body and plain headers: @hono/node-server writes that straight
  // to the socket (a Response rebuilt around another's body stream is piped through web streams).
  // With the HTTP layer's common headers in the same object, nothing turns them into a Headers.
  const headers = { ...extraHeaders, 'content-type': 'application/json' };
  text ??= JSON.stringify(body);
  return common
    ? withCommonHeaders(common, text, { status, headers })
    : new Response(text, { status, headers });
}

/**
 * The input-required result asking the person to confirm a call: one form elicitation (a single
 * boolean) and the signed request state the retry must echo; or, for the approval page, one
 * URL elicitation (2026-07-28 carries no `elicitationId`: the page's approval is found again by
 * the retried call itself). Built with the SDK's own builders; the SDK handler
 * (server-factory.ts) returns the same object.
 */
export function confirmationRequest(outcome: { message: string; requestState?: string; url?: string }) {
  return inputRequired({
    inputRequests: {
      [CONFIRM_KEY]: outcome.url
        ? inputRequired.elicitUrl({ message: outcome.message, url: outcome.url })
        : inputRequired.elicit({ message: outcome.message, requestedSchema: confirmSchema() }),
    },
    ...(outcome.requestState ? { requestState: outcome.requestState } : {}),
  });
}
