import type { InputRequest } from '../tools/index.js';
import { UpstreamError } from './errors.js';
import type { InputRequestMethod } from './rpc-connection.js';

/**
 * 2026-07-28 multi-round trips, upstream side (SEP-2322): a server that needs the caller answers
 * a request with `resultType: 'input_required'`, `inputRequests` keyed by its own names and an
 * opaque `requestState`; the client retries the same request with `inputResponses` under those
 * keys and the state echoed byte for byte.
 *
 * The gateway asks its caller (ToolContext.requestInput: park-call.ts for a 2026-07-28 caller,
 * the session's stream for a 2025 one) under the server's own keys, then retries upstream itself.
 * The server's `requestState` never leaves the gateway: it is kept here, in the call that is
 * waiting, so no caller can read it, replay it, or hand in another upstream's or another
 * caller's; what the caller holds is the gateway's own state naming this waiting call, bound to
 * the caller's credential and the call's target (park-call.ts).
 *
 * A request the call did not declare (the envelope's capabilities: the caller's, intersected
 * with what the operator relays) is not asked: the call ends with an error naming it. A server
 * that asks regardless of what was declared is either broken or probing for a way past the
 * operator's `inputRequests`.
 */

/** Rounds before the gateway gives up on a server that keeps asking (the SDK client's default). */
export const MAX_INPUT_ROUNDS = 10;
/** Input requests in one round, and the longest requestState kept (the state is held in memory). */
const MAX_REQUESTS_PER_ROUND = 16;
const MAX_REQUEST_STATE = 64 * 1024;
/** Pause before retrying a round that asks nothing (a server shedding load), as the SDK paces it. */
const STATE_ONLY_PACING_MS = 250;

const INPUT_METHODS: readonly string[] = ['elicitation/create', 'sampling/createMessage', 'roots/list'];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A result of a 2026-07-28 server asking for input (before its shape is checked). */
export function isInputRequired(result: unknown): result is Record<string, unknown> {
  return isObject(result) && result.resultType === 'input_required';
}

/** What a request needs the client to have declared, in capability terms. */
function needed(method: InputRequestMethod, params: Record<string, unknown>): string {
  switch (method) {
    case 'elicitation/create':
      return params.mode === 'url' ? 'elicitation.url' : 'elicitation.form';
    case 'sampling/createMessage':
      return 'sampling';
    case 'roots/list':
      return 'roots';
  }
}

function declares(caps: Readonly<Record<string, unknown>>, need: string): boolean {
  const [top, mode] = need.split('.') as [string, string | undefined];
  const section = caps[top];
  return isObject(section) && (mode === undefined || isObject(section[mode]));
}

/** The config switch that relays a capability, for the error text. */
const SWITCH: Readonly<Record<string, string>> = {
  'elicitation.form': 'inputRequests.elicitation',
  'elicitation.url': 'inputRequests.urlElicitation',
  sampling: 'inputRequests.sampling',
  roots: 'inputRequests.roots',
};

export interface InputRoundsDeps {
  readonly upstream: string;
  /** The request as first sent (without any retry fields). */
  readonly params: Record<string, unknown>;
  /** Sends the request again with the retry fields added. */
  readonly send: (params: Record<string, unknown>) => Promise<unknown>;
  /** Asks the caller; absent when this caller cannot be asked anything. */
  readonly ask: ((request: InputRequest) => Promise<Record<string, unknown>>) | undefined;
  /** The capabilities the envelope declared to the server for this call. */
  readonly declared: Readonly<Record<string, unknown>>;
  /** The capabilities the caller itself declared (to say whose switch is off). */
  readonly callerDeclared: Readonly<Record<string, unknown>>;
  readonly onRound?: (keys: readonly string[]) => void;
}

/**
 * Drives the rounds from the first `input_required` result to a complete one (returned as it is,
 * for the caller of the request to parse). Throws an UpstreamError the call ends with: a request
 * not declared, a malformed round, too many rounds.
 */
export async function answerInputRequired(
  first: Record<string, unknown>,
  deps: InputRoundsDeps,
): Promise<unknown> {
  let result: unknown = first;
  for (let round = 0; round < MAX_INPUT_ROUNDS; round++) {
    if (!isInputRequired(result)) return result;
    const { requests, requestState } = readRound(result, deps.upstream);
    for (const r of requests) {
      const need = needed(r.method, r.params);
      if (declares(deps.declared, need)) continue;
      const byOperator = declares(deps.callerDeclared, need);
      throw new UpstreamError(
        'upstream-undeclared-request',
        byOperator
          ? `The upstream server "${deps.upstream}" asked for ${need}, which the operator does not relay for this server (${SWITCH[need]} is off); the call was ended.`
          : `The upstream server "${deps.upstream}" asked for ${need}, which this call did not declare; the call was ended.`,
        { detail: `input request ${r.key.slice(0, 64)}: ${r.method}` },
      );
    }
    deps.onRound?.(requests.map((r) => r.key));
    const answers: Record<string, unknown> = {};
    if (requests.length === 0) await new Promise((resolve) => setTimeout(resolve, STATE_ONLY_PACING_MS));
    else {
      const ask = deps.ask!;
      // Asked together, so a 2026-07-28 caller gets them in one input_required (park-call.ts).
      const settled = await Promise.allSettled(
        requests.map((r) => ask({ method: r.method, params: r.params, upstream: deps.upstream, key: r.key })),
      );
      // A question the caller did not answer is left out: the server decides what then (it asks
      // again, or ends the call), as it would for a client that sent no response for that key.
      settled.forEach((s, i) => {
        if (s.status === 'fulfilled') answers[requests[i]!.key] = s.value;
      });
    }
    result = await deps.send({
      ...deps.params,
      ...(Object.keys(answers).length > 0 ? { inputResponses: answers } : {}),
      ...(requestState !== undefined ? { requestState } : {}),
    });
  }
  if (!isInputRequired(result)) return result;
  throw new UpstreamError(
    'upstream-protocol-error',
    `The upstream server "${deps.upstream}" kept asking for input after ${MAX_INPUT_ROUNDS} rounds; the call was ended.`,
  );
}

interface Round {
  readonly requests: readonly {
    readonly key: string;
    readonly method: InputRequestMethod;
    readonly params: Record<string, unknown>;
  }[];
  readonly requestState: string | undefined;
}

/** One input_required result checked: bounded, each request a known method with object params. */
function readRound(result: Record<string, unknown>, upstream: string): Round {
  const malformed = (why: string) =>
    new UpstreamError(
      'upstream-protocol-error',
      `The upstream server "${upstream}" sent a malformed input_required result.`,
      { detail: why },
    );
  const raw = result.inputRequests;
  if (raw !== undefined && !isObject(raw)) throw malformed('inputRequests is not an object');
  const state = result.requestState;
  if (state !== undefined && (typeof state !== 'string' || state.length > MAX_REQUEST_STATE))
    throw malformed(`requestState must be a string of at most ${MAX_REQUEST_STATE} characters`);
  const entries = Object.entries(raw ?? {});
  if (entries.length === 0 && state === undefined) throw malformed('neither inputRequests nor requestState');
  if (entries.length > MAX_REQUESTS_PER_ROUND)
    throw malformed(`more than ${MAX_REQUESTS_PER_ROUND} input requests`);
  const requests = entries.map(([key, r]) => {
    if (key.length === 0 || key.length > 128) throw malformed('an input request key is empty or too long');
    if (!isObject(r) || typeof r.method !== 'string' || !INPUT_METHODS.includes(r.method))
      throw malformed(`input request ${key.slice(0, 64)} is not elicitation, sampling or roots`);
    if (r.params !== undefined && !isObject(r.params))
      throw malformed(`input request ${key.slice(0, 64)} has params that are not an object`);
    return { key, method: r.method as InputRequestMethod, params: isObject(r.params) ? r.params : {} };
  });
  return { requests, requestState: state };
}
