import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { EndpointEnv, McpPipeline } from './context.js';
import { handleRequest } from './pipeline.js';
import { HEADER } from './protocol.js';
import { createSurfaceNotifier } from './notify-surface.js';
import { createParkedCalls } from './park-call.js';
import { createServerFactory } from './server-factory.js';
import type { SharedState } from '../shared-state/index.js';
import type { CommonHeaders } from '../wire/index.js';
import type { SurfaceEvent } from '../tools/index.js';
import { createSessionRecords } from './session-records.js';
import {
  createSessionManager,
  type SessionCredential,
  type SessionLimits,
  type SessionManager,
} from './sessions.js';

export interface McpEndpointOptions {
  readonly pipeline: McpPipeline;
  readonly logger: Logger;
  /** The gateway's redaction of every string of a value (relayed notifications). */
  readonly redact: <T>(value: T) => T;
  readonly bodyLimitBytes: number;
  readonly jsonMaxDepth: number;
  readonly sessions: SessionLimits;
  /** Whether a session's last credential still holds, checked before each notification it is sent. */
  readonly credentialValid?: (credential: SessionCredential) => Promise<boolean>;
  /** Redis: 2025 session records shared by replicas (a session opened on one works on all). */
  readonly sharedState?: SharedState | undefined;
}

export interface McpEndpoint {
  /** `headers`: what the HTTP layer adds to every answer, for the answers built here with it. */
  handle(
    request: Request,
    ctx: { requestId: string; ip: string; headers?: CommonHeaders | undefined },
  ): Promise<Response>;
  readonly sessions: SessionManager;
  /** An upstream announced a change: tell the clients that may hear of it (notify-surface.ts). */
  surfaceEvent(event: SurfaceEvent): void;
  close(): Promise<void>;
}

/**
 * The /mcp endpoint: builds the SDK's handler and the session manager once, then runs every
 * request through REQUEST_STAGES (pipeline.ts). 2026-07-28 and stateless 2025 traffic go to
 * the SDK's per-request handler; 2025 clients that declare elicitation get a stateful session
 * bound to their credential.
 */
export function createMcpEndpoint(opts: McpEndpointOptions): McpEndpoint {
  const { pipeline, logger } = opts;
  // The factory's logging/setLevel handler finds the caller's session (the manager is created
  // just below; the handler runs only once requests arrive).
  const parked = createParkedCalls();
  const factory = createServerFactory(pipeline, {
    findSession: (id, principal) => sessions.find(id, principal),
    parked,
  });
  const onerror = (err: Error) => logger.debug({ err }, 'mcp request rejected by the SDK');
  const handler: McpHttpHandler = createMcpHandler(factory, {
    legacy: 'stateless',
    onerror,
    maxRequestBodySize: opts.bodyLimitBytes,
  });
  const records =
    opts.sharedState &&
    createSessionRecords({
      shared: opts.sharedState,
      idleTtlMs: opts.sessions.idleTtlMs,
      now: Date.now,
      onProblem: (what, err) => logger.warn({ err }, what),
    });
  const sessions = createSessionManager({ factory, limits: opts.sessions, logger, now: Date.now, records });
  const notifier = createSurfaceNotifier({
    handler,
    sessions,
    logger,
    ...(opts.credentialValid ? { credentialValid: opts.credentialValid } : {}),
  });
  const env: EndpointEnv = {
    pipeline,
    handler,
    sessions,
    parked,
    redact: opts.redact,
    logger,
    bodyLimitBytes: opts.bodyLimitBytes,
    jsonMaxDepth: opts.jsonMaxDepth,
  };

  return {
    handle: (request, ctx) =>
      handleRequest({
        env,
        request,
        requestId: ctx.requestId,
        ip: ctx.ip,
        commonHeaders: ctx.headers,
        sessionId: request.headers.get(HEADER.sessionId) ?? undefined,
        id: null,
      }),
    sessions,
    surfaceEvent: (event) => notifier.notify(event),
    async close() {
      notifier.close();
      parked.close();
      await sessions.close();
      await handler.close();
    },
  };
}
