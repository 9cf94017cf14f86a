import type { McpHttpHandler } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { AuditEntry, AuditLog } from '../audit/index.js';
import type { AccessTokenAuthenticator, AuthInput, Principal, RoleCeilings } from '../auth/index.js';
import type { ConfirmDeps, ConfirmStage, ElicitAnswer, SessionHooks } from '../approvals/index.js';
import type { AlertDetector, Metrics } from '../metrics/index.js';
import type { Decision, Policy, PolicyTool, TaintTracker } from '../policy/index.js';
import type { RateLimitRefusal, RateLimits, ToolCallRateDecision } from '../ratelimit/index.js';
import type { OutputGuard, SecuredOutput, ToolResult } from '../safety/index.js';
import type { ApiKeyStore, QuarantineStore } from '../storage/index.js';
import type { CallTracer } from '../telemetry/index.js';
import type {
  Catalogue,
  ListedPrompt,
  ListedResource,
  ListedResourceTemplate,
  ListedTool,
  LogLevel,
  Tool,
  ToolContext,
  ToolLabel,
  ToolOutput,
} from '../tools/index.js';
import type { CheckedMessage, Refusal } from './check-request.js';
import type { CallShape } from './check-call.js';
import type { PipelineReason } from './reasons.js';
import type { CommonHeaders, JsonRpcId } from '../wire/index.js';
import { JSON_RPC, type CallMethod } from './protocol.js';
import type { ParkedCalls } from './park-call.js';
import type { CallRelay } from './relay.js';
import type { Session, SessionManager } from './sessions.js';

/**
 * The typed context a tools/call carries through the stages of pipeline.ts, and the outcomes
 * it can end with. Each stage reads what earlier stages set and adds its own part.
 */

export type { ToolResult } from '../safety/index.js';
export type { JsonRpcId } from '../wire/index.js';

export type ToolCallOutcome =
  | {
      readonly kind: 'result';
      readonly result: ToolResult;
      readonly headers: Record<string, string>;
      /**
       * `result` as JSON, when it was serialised already (its size goes in the record): the
       * 2026-07-28 answer is framed around this text instead of serialising the result again.
       */
      readonly resultJson?: string;
    }
  /**
   * A JSON-RPC error: -32602 (in-band) for malformed params or an unknown tool, -32603 for an
   * internal failure (HTTP 500 where the HTTP status is still to be sent), -32021 (HTTP 400) for
   * a capability an upstream needs that the caller did not declare.
   */
  | {
      readonly kind: 'rpc-error';
      readonly code:
        typeof JSON_RPC.invalidParams | typeof JSON_RPC.internalError | typeof JSON_RPC.missingCapability;
      readonly message: string;
      /** The error's data, e.g. the URI of a resource not found (2026-07-28 SEP-2164). */
      readonly data?: Record<string, unknown>;
    }
  /** Refused for the request's shape (headers, envelope, session) before anything ran. */
  | { readonly kind: 'refused'; readonly refusal: Refusal }
  /** 503: the audit log cannot commit, so the call did not run; safe to retry after the wait. */
  | { readonly kind: 'unavailable'; readonly retryAfterSeconds: number; readonly message: string }
  /** Refused before anything ran: 403 with a scope challenge, or 429 with a retry time. */
  | { readonly kind: 'scope-denial'; readonly requiredScope: string }
  | { readonly kind: 'rate-limited'; readonly refusal: RateLimitRefusal }
  /**
   * 2026-07-28: answer with an input-required result: a confirmation form and its signed
   * state, or (`url`) a URL elicitation of the approval page.
   */
  | {
      readonly kind: 'input-required';
      readonly message: string;
      readonly requestState?: string;
      readonly url?: string;
    }
  /**
   * 2026-07-28: an upstream asked the person something during the call (park-call.ts): the
   * client is answered `input_required` with the upstream's (labelled) requests; its retry
   * carries `requestState` back to the parked call.
   */
  | {
      readonly kind: 'relay-input';
      readonly requestState: string;
      readonly inputRequests: Record<string, { method: string; params: Record<string, unknown> }>;
    }
  /**
   * 2025 stateful session: the SDK handler elicits on the request's stream, then `resume`
   * finishes the call (runs it only on an exact accept) and returns the final outcome. The
   * call's audit record is written by `resume`.
   */
  | {
      readonly kind: 'elicit';
      readonly message: string;
      readonly timeoutMs: number;
      /** URL mode: the approval page to show, and the id `notifications/elicitation/complete` names. */
      readonly url?: string;
      readonly elicitationId?: string;
      readonly resume: (answer: ElicitAnswer, hooks?: SessionHooks) => Promise<ToolCallOutcome>;
    };

export type AuthOutcome =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly kind: 'unauthenticated'; readonly missing: boolean }
  | { readonly ok: false; readonly kind: 'rate-limited'; readonly refusal: RateLimitRefusal };

/** What the HTTP layer knows about the request, for limits and the audit record. */
export interface RequestMeta {
  readonly requestId: string;
  /** The client address (the proxy's X-Forwarded-For hop when trustProxy is on). */
  readonly ip: string;
  readonly sessionId?: string;
  readonly bytesIn: number;
}

export interface ToolCallRequest {
  readonly principal: Principal;
  readonly meta: RequestMeta;
  /** Which call this is (protocol.ts CALL_METHODS); default tools/call. */
  readonly method?: CallMethod;
  /** The params as sent; their shape is the pipeline's first check. */
  readonly params: unknown;
  /** A problem the HTTP layer found (headers, envelope, session): the call is refused and recorded. */
  readonly refusal?: Refusal;
  /** Aborted when the client goes away; the record then says so. */
  readonly signal: AbortSignal;
  /** How this client can be asked to confirm a call; `none`: only the approval page. */
  readonly confirmVia: 'input-required' | 'session' | 'none';
  /** `input-required`: the elicitation modes the request declares (form, url). */
  readonly elicits?: { readonly form: boolean; readonly url: boolean };
  /** A 2026-07-28 retry's echoed `requestState` and `inputResponses`. */
  readonly requestState?: unknown;
  readonly inputResponses?: Record<string, unknown>;
  /** Where the target's progress and log notifications go, when the caller can receive them. */
  readonly notify?: ToolContext['notify'];
  readonly requestInput?: ToolContext['requestInput'];
  /** The client features the caller declared (relayed to a 2026-07-28 upstream, intersected). */
  readonly clientCapabilities?: ToolContext['clientCapabilities'];
  readonly progressToken?: string | number;
  readonly logLevel?: LogLevel;
  /** Called once an upstream target starts running: from then on the call may stream (relay.ts). */
  readonly onRun?: () => void;
}

export interface PipelineDeps {
  readonly apiKeys: ApiKeyStore;
  readonly catalogue: Catalogue;
  /** Undefined when rate limiting is switched off (rateLimits.enabled: false). */
  readonly limits: RateLimits | undefined;
  readonly output: OutputGuard;
  readonly quarantine: QuarantineStore;
  /**
   * The audit log and the key of its argument hashes; undefined when the log is switched off
   * (audit.enabled: false), and then no record is built at all.
   */
  readonly audit: { readonly log: AuditLog; readonly argsKey: Buffer } | undefined;
  /** Tool-name globs whose arguments are audited in full (redacted). */
  readonly fullPayloadTools: readonly string[];
  readonly metrics: Metrics;
  readonly alerts: AlertDetector;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly policy: Policy;
  readonly taint: TaintTracker;
  readonly confirm: ConfirmDeps;
  /** OAuth access tokens (JWTs) on /mcp, beside API keys; absent when OAuth is off. */
  readonly accessTokens?: AccessTokenAuthenticator;
  /** People's roles: the ceiling of every credential that acts for a person (src/users). */
  readonly people?: RoleCeilings;
  /** OTLP telemetry (telemetry.otlp); absent when off, and then no call is traced at all. */
  readonly tracer?: CallTracer;
}

/** What the pipeline prepares once, at start-up, for every call. */
export interface CallEnv {
  readonly deps: PipelineDeps;
  /** `fullPayloadTools` compiled. */
  readonly fullPayload: readonly RegExp[];
  readonly confirm: ConfirmStage;
  readonly decide: (principal: Principal, tool: PolicyTool, taint: ReadonlySet<ToolLabel>) => Decision;
}

/** One call (a tools/call, or a resource, prompt or completion) on its way through the stages. */
export interface CallContext {
  readonly env: CallEnv;
  readonly req: ToolCallRequest;
  readonly method: CallMethod;
  /** Date.now() when the call entered the pipeline (the record's latency). */
  readonly started: number;
  /** What the stages found, in order; stored verbatim in the record. */
  readonly reasons: PipelineReason[];
  // read call
  shape?: CallShape;
  name?: string;
  tool?: Tool;
  /** The arguments, when the params had the right shape. */
  args?: Record<string, unknown>;
  described?: AuditEntry['args'];
  // rate limit
  admitted?: ToolCallRateDecision & { allowed: true };
  /** The confirm stage keeps the concurrency slot while a 2025 session elicits. */
  holdSlot: boolean;
  // decide
  decision?: Decision;
  taint?: ReadonlySet<ToolLabel>;
  /** What the record says was decided once the call is admitted. */
  auditDecision: 'allow' | 'confirm';
  /** RateLimit headers of an admitted call's result. */
  headers: Record<string, string>;
  // validate
  value?: unknown;
  // execute
  /** From here on a tool may have acted: a lost record is a 500, not a retry invitation. */
  effectful: boolean;
  out?: ToolOutput;
  /** The person's own upstream connection the call used (audit record). */
  upstreamIdentity?: { connectionId: string; upstreamSubject: string | null };
  // check output
  structured?: Record<string, unknown>;
  // secure output
  secured?: SecuredOutput;
  result?: ToolResult;
  /** finish() ran: the record is written and the answer given. */
  concluded: boolean;
  /** The call's one record, as finish() committed it (telemetry summarises it). */
  record?: AuditEntry;
}

/** A call as it enters the stages: nothing found yet, nothing run. */
export function startCall(env: CallEnv, req: ToolCallRequest): CallContext {
  return {
    env,
    req,
    method: req.method ?? 'tools/call',
    started: Date.now(),
    reasons: [],
    holdSlot: false,
    auditDecision: 'allow',
    headers: {},
    effectful: false,
    concluded: false,
  };
}

/** How a call ends: what its record says, and the answer once the record is committed. */
export interface Ending {
  readonly decision: AuditEntry['decision'];
  readonly outcome: 'ok' | 'denied' | 'invalid' | 'failed' | 'rate-limited';
  readonly errorCode?: string;
  readonly bytesOut?: number;
  readonly answer: ToolCallOutcome;
}

/**
 * A stage of a flow: does its part, then either hands on (`return next()`) or ends the call
 * (`return finish(ctx, …)`). Wrapping `next()` lets a stage hold something for the rest of the
 * call (the rate-limit stage's concurrency slot).
 */
export type Stage<C, R> = (ctx: C, next: () => Promise<R>) => Promise<R>;
export type CallStage = Stage<CallContext, ToolCallOutcome>;

/** A field an earlier stage sets. Missing means the table is out of order: a wiring bug. */
export function given<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`pipeline stage order: ${what} is not set yet`);
  return value;
}

export const errorResult = (text: string): ToolResult => ({
  content: [{ type: 'text', text }],
  isError: true,
});

export const internalError = (requestId: string) =>
  ({
    kind: 'rpc-error',
    code: JSON_RPC.internalError,
    message: `Internal error (correlation id ${requestId}).`,
  }) as const;

/** How long a client is asked to wait when the audit log cannot commit. */
const AUDIT_RETRY_AFTER_SECONDS = 30;
export const unavailable = (requestId: string) =>
  ({
    kind: 'unavailable',
    retryAfterSeconds: AUDIT_RETRY_AFTER_SECONDS,
    message: `Service unavailable: the call was not run because it could not be recorded; try again later (correlation id ${requestId}).`,
  }) as const;

/** An admitted call answered with a tool result (with its RateLimit headers). */
export function resultEnding(
  ctx: CallContext,
  result: ToolResult,
  outcome: 'ok' | 'invalid' | 'failed' | 'denied',
  errorCode?: string,
): Ending {
  const resultJson = JSON.stringify(result);
  return {
    decision: ctx.auditDecision,
    outcome,
    ...(errorCode ? { errorCode } : {}),
    bytesOut: Buffer.byteLength(resultJson),
    answer: { kind: 'result', result, headers: ctx.headers, resultJson },
  };
}

/** The pipeline as the HTTP layer and the SDK handlers use it. */
export interface McpPipeline {
  authenticate(input: AuthInput, meta: RequestMeta): Promise<AuthOutcome>;
  listTools(principal: Principal, meta: RequestMeta): Promise<ListedTool[]>;
  listPrompts(principal: Principal, meta: RequestMeta): Promise<ListedPrompt[]>;
  listResourceTemplates(principal: Principal, meta: RequestMeta): Promise<ListedResourceTemplate[]>;
  listResources(
    principal: Principal,
    meta: RequestMeta,
    cursor: string | undefined,
    signal: AbortSignal,
  ): Promise<{ resources: ListedResource[]; nextCursor?: string }>;
  callTool(request: ToolCallRequest): Promise<ToolCallOutcome>;
  /** Records one round of a parked call's questions (park-call.ts); false if it could not. */
  recordRound(
    principal: Principal,
    meta: RequestMeta,
    target: string | undefined,
    found: boolean,
    started: number,
  ): Promise<boolean>;
  /**
   * Checks (readable), relays to the upstream and records a resource subscription; throws a
   * ProtocolError. `relay: false` records and checks without telling the upstream (the
   * subscriber's own holding did not change).
   */
  subscribe(
    principal: Principal,
    meta: RequestMeta,
    uri: string,
    action: 'subscribe' | 'unsubscribe',
    relay?: boolean,
  ): Promise<void>;
}

/** What the /mcp endpoint prepares once for every request. */
export interface EndpointEnv {
  readonly pipeline: McpPipeline;
  /** The SDK's per-request handler (2026-07-28 and stateless 2025). */
  readonly handler: McpHttpHandler;
  readonly sessions: SessionManager;
  readonly parked: ParkedCalls;
  readonly logger: Logger;
  readonly redact: <T>(value: T) => T;
  readonly bodyLimitBytes: number;
  readonly jsonMaxDepth: number;
}

/** One POST (or GET/DELETE) to /mcp on its way through the request stages. */
export interface RequestContext {
  readonly env: EndpointEnv;
  readonly request: Request;
  readonly requestId: string;
  readonly ip: string;
  readonly sessionId: string | undefined;
  /** The HTTP layer's headers for every answer, when it hands them (wire/common-headers.ts). */
  readonly commonHeaders?: CommonHeaders | undefined;
  // authenticate
  principal?: Principal;
  // read message
  body?: { readonly value: unknown; readonly bytes: number };
  /** The id the answer may echo: a valid JSON-RPC request id, else null. */
  id: JsonRpcId;
  // check message
  checked?: CheckedMessage;
  // find session
  session?: Session;
  // call
  toolCall?: ToolCallOutcome;
  /** A call still running whose notifications stream to the caller: the SDK handler awaits it. */
  running?: RunningCall;
}

/** A call whose upstream target is running while the SDK has the request (relay.ts). */
export interface RunningCall {
  readonly outcome: Promise<ToolCallOutcome>;
  readonly relay: CallRelay;
  /** 2026-07-28 questions from the upstream park the call (park-call.ts); 2025 asks on the session. */
  readonly era: 'modern' | 'legacy';
  readonly binding: string;
  readonly target: string;
  /** The request's declared client capabilities (2026-07-28). */
  readonly caps: Record<string, unknown>;
}

export type RequestStage = Stage<RequestContext, Response>;

/** The request's facts for limits and records, with the bytes read so far. */
export function requestMeta(ctx: RequestContext, bytesIn: number): RequestMeta {
  return {
    requestId: ctx.requestId,
    ip: ctx.ip,
    ...(ctx.sessionId ? { sessionId: ctx.sessionId } : {}),
    bytesIn,
  };
}
