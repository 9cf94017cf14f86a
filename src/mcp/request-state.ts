import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/index.js';
import type { RequestMeta, RunningCall, ToolCallOutcome } from './context.js';

/**
 * What the HTTP layer hands the SDK for one request, carried in `AuthInfo.extra` (the SDK's
 * pass-through seam). The tool call has already run through the pipeline; the SDK only frames
 * its outcome for the negotiated protocol revision.
 */
export interface RequestState {
  readonly principal: Principal;
  readonly meta: RequestMeta;
  readonly toolCall?: ToolCallOutcome;
  /** A call still running (relay.ts): the handler attaches the relay, then awaits the outcome. */
  readonly running?: RunningCall;
}

const KEY = 'portcullis';

export function toAuthInfo(state: RequestState): AuthInfo {
  return {
    // The SDK requires a `token` field; it gets the credential id, never the credential.
    token: state.principal.credentialId,
    clientId: state.principal.clientId ?? state.principal.subject,
    scopes: [...state.principal.scopes],
    extra: { [KEY]: state },
  };
}

export function fromAuthInfo(authInfo: AuthInfo | undefined): RequestState | undefined {
  return authInfo?.extra?.[KEY] as RequestState | undefined;
}
