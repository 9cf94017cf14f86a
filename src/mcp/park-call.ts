import { randomBytes } from 'node:crypto';
import type { ClientCapabilities } from '@modelcontextprotocol/server';
import { CONFIRM_KEY } from '../approvals/index.js';
import type { InputRequest } from '../tools/index.js';
import type { ToolCallOutcome } from './context.js';

/**
 * 2026-07-28 callers cannot be asked anything mid-call: a server asks by answering the request
 * with `input_required`, and the client retries with `inputResponses`. When an upstream asks
 * during a call, the call is parked here: the client's request is answered `input_required`,
 * labelled as the upstream's, with a `requestState` that names the parked call; the upstream's
 * side waits. The retry (call stage) delivers the answers and is answered with what happens
 * next: another question, or the call's outcome. The state is 256 random bits, single use, bound
 * to the caller's credential and the call's target, and expires.
 *
 * The upstream may speak either era. 2025: its server-to-client request waits on the shared
 * connection and gets the answer. 2026-07-28: it answered `input_required` itself, with its own
 * keys and `requestState`; the upstream side (upstreams/answer-input-required.ts) asks here under
 * those keys and retries upstream with the answers and the state. That state stays in the
 * waiting call and never reaches the caller, so the gateway's state here is the only one a
 * caller holds: it cannot hand in another upstream's or another caller's.
 */

/** The prefix of a parked call's requestState (the gateway's confirmations use another form). */
export const PARKED_STATE_PREFIX = 'pcr1.';

/**
 * An upstream's own input-request key is kept when it is plain (2026-07-28 upstreams name their
 * requests); anything else, or a key the gateway's confirmation uses, gets a key of ours.
 */
const SAFE_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/** How long a parked call waits for the client's retry. */
const PARK_TTL_MS = 5 * 60_000;

interface Ask {
  readonly key: string;
  readonly request: InputRequest;
  resolve(result: Record<string, unknown>): void;
  reject(err: Error): void;
}

/** What the client is answered while a call is parked, or the call's end. */
export type ParkedStep =
  | { readonly kind: 'outcome'; readonly outcome: ToolCallOutcome }
  | {
      readonly kind: 'input';
      readonly requestState: string;
      readonly inputRequests: Record<string, { method: string; params: Record<string, unknown> }>;
    };

/** The questions of one running call, in the order the upstream asked them. */
export interface CallQuestions {
  readonly ask: (request: InputRequest) => Promise<Record<string, unknown>>;
}

interface Parked {
  readonly binding: string;
  readonly target: string;
  readonly outcome: Promise<ToolCallOutcome>;
  readonly asks: Ask[];
  readonly caps: ClientCapabilities;
  readonly queue: AskQueue;
  readonly timer: NodeJS.Timeout;
}

interface AskQueue {
  push(a: Ask): void;
  /** Every question asked so far and not yet taken; waits for the first. */
  take(): Promise<Ask[]>;
}

function askQueue(): AskQueue {
  const queued: Ask[] = [];
  let waiter: (() => void) | undefined;
  return {
    push(a) {
      queued.push(a);
      waiter?.();
      waiter = undefined;
    },
    async take() {
      if (queued.length === 0) await new Promise<void>((resolve) => (waiter = resolve));
      // Questions asked together (in the same turn) are asked together.
      await new Promise((resolve) => setImmediate(resolve));
      return queued.splice(0);
    },
  };
}

/** The label every relayed elicitation carries: whose question it is. */
export function labelled(request: InputRequest): Record<string, unknown> {
  // The upstream's `_meta` (its own progress token…) is about its request to the gateway, not
  // the caller's: it is not passed on.
  const { _meta: _dropped, ...params } = request.params;
  if (request.method !== 'elicitation/create') return params;
  return {
    ...params,
    message: `Request from the upstream server "${request.upstream}", not from Portcullis: ${typeof params.message === 'string' ? params.message : ''}`,
  };
}

function declares(caps: ClientCapabilities, request: InputRequest): boolean {
  switch (request.method) {
    case 'elicitation/create': {
      const e = caps.elicitation as Record<string, unknown> | undefined;
      if (!e) return false;
      return request.params.mode === 'url' ? 'url' in e : 'form' in e || !('url' in e);
    }
    case 'sampling/createMessage':
      return caps.sampling !== undefined;
    case 'roots/list':
      return caps.roots !== undefined;
  }
}

export interface ParkedCalls {
  /** The questions of a call that has just started running, and its first step for the client. */
  start(input: {
    readonly binding: string;
    readonly target: string;
    readonly caps: ClientCapabilities;
    readonly outcome: Promise<ToolCallOutcome>;
  }): { questions: CallQuestions; next: () => Promise<ParkedStep> };
  /**
   * Delivers a retry's answers to the parked call its state names and returns the next step;
   * undefined when the state is unknown, expired, used, or not this caller's call.
   */
  /** Whether `state` names a parked call of this caller and target (nothing is delivered). */
  holds(state: string, binding: string, target: string): boolean;
  resume(
    state: string,
    binding: string,
    target: string,
    responses: Record<string, unknown>,
  ): Promise<ParkedStep> | undefined;
  readonly size: number;
  close(): void;
}

export function createParkedCalls(opts: { maxParked?: number } = {}): ParkedCalls {
  const maxParked = opts.maxParked ?? 1000;
  const parked = new Map<string, Parked>();
  let keys = 0;

  const refuse = (asks: readonly Ask[], why: string) => {
    for (const a of asks) a.reject(new Error(why));
  };

  /** The next step of a running call: its end, or the questions asked so far (then it is parked). */
  const step = async (
    binding: string,
    target: string,
    caps: ClientCapabilities,
    outcome: Promise<ToolCallOutcome>,
    queue: AskQueue,
  ): Promise<ParkedStep> => {
    let asks: Ask[] = [];
    while (asks.length === 0) {
      const first = await Promise.race([outcome.then((o) => ({ o })), queue.take()]);
      if ('o' in first) return { kind: 'outcome', outcome: first.o };
      // What this caller did not declare it can answer is refused to the upstream, which decides
      // what then (the caller's capabilities cannot ride on the upstream's shared connection).
      for (const a of first.filter((q) => !declares(caps, q.request)))
        a.reject(new Error('The caller did not declare the capability this request needs.'));
      asks = first.filter((q) => declares(caps, q.request));
    }
    if (parked.size >= maxParked) {
      refuse(asks, 'Too many calls are waiting for their callers.');
      return { kind: 'outcome', outcome: await outcome };
    }
    const state = PARKED_STATE_PREFIX + randomBytes(32).toString('base64url');
    const timer = setTimeout(() => {
      const p = parked.get(state);
      if (!p) return;
      parked.delete(state);
      refuse(p.asks, 'The caller did not answer in time.');
    }, PARK_TTL_MS);
    timer.unref();
    parked.set(state, { binding, target, outcome, asks, caps, queue, timer });
    return {
      kind: 'input',
      requestState: state,
      inputRequests: Object.fromEntries(
        asks.map((a) => [a.key, { method: a.request.method, params: labelled(a.request) }]),
      ),
    };
  };

  return {
    start({ binding, target, caps, outcome }) {
      const queue = askQueue();
      /** Keys handed out for this call and not yet answered: two questions never share one. */
      const open = new Set<string>();
      const keyOf = (request: InputRequest) => {
        const own = request.key;
        const key =
          own !== undefined && SAFE_KEY.test(own) && own !== CONFIRM_KEY && !open.has(own)
            ? own
            : `upstream_${++keys}`;
        open.add(key);
        return key;
      };
      return {
        questions: {
          ask: (request) =>
            new Promise((resolve, reject) => {
              const key = keyOf(request);
              const done =
                <T>(settle: (v: T) => void) =>
                (v: T) => {
                  open.delete(key);
                  settle(v);
                };
              queue.push({ key, request, resolve: done(resolve), reject: done(reject) });
            }),
        },
        next: () => step(binding, target, caps, outcome, queue),
      };
    },
    holds(state, binding, target) {
      const p = parked.get(state);
      return p !== undefined && p.binding === binding && p.target === target;
    },
    resume(state, binding, target, responses) {
      const p = parked.get(state);
      if (!p || p.binding !== binding || p.target !== target) return undefined;
      parked.delete(state);
      clearTimeout(p.timer);
      for (const a of p.asks) {
        const answer = responses[a.key];
        if (answer !== null && typeof answer === 'object' && !Array.isArray(answer))
          a.resolve(answer as Record<string, unknown>);
        else a.reject(new Error('The caller gave no answer.'));
      }
      return step(binding, target, p.caps, p.outcome, p.queue);
    },
    get size() {
      return parked.size;
    },
    close() {
      for (const p of parked.values()) {
        clearTimeout(p.timer);
        refuse(p.asks, 'The gateway is shutting down.');
      }
      parked.clear();
    },
  };
}

/** A parked call's next step as the handler answers it. */
export function stepOutcome(step: ParkedStep): ToolCallOutcome {
  switch (step.kind) {
    case 'outcome':
      return step.outcome;
    case 'input':
      return { kind: 'relay-input', requestState: step.requestState, inputRequests: step.inputRequests };
  }
}
