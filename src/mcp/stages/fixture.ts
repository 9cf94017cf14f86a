import { pino } from 'pino';
import type { AuditEntry } from '../../audit/index.js';
import type { Principal } from '../../auth/index.js';
import { createAlertDetector, createMetrics } from '../../metrics/index.js';
import type { Decision } from '../../policy/index.js';
import type { Tool } from '../../tools/index.js';
import {
  startCall,
  type CallContext,
  type CallEnv,
  type PipelineDeps,
  type ToolCallOutcome,
  type ToolCallRequest,
} from '../context.js';

/**
 * Support for the stage tests: a call context on a frozen clock over the deps a stage uses,
 * with every audit record it commits collected. Only the tests import this file.
 */

export const T0 = Date.parse('2026-12-01T09:00:00Z');

export const principal: Principal = {
  subject: 'alice',
  tenant: 'alice',
  credentialId: 'k1',
  authMethod: 'api-key',
  scopes: new Set(['memory:write']),
  binding: 'api-key:k1',
};

/** A tool whose behaviour a test chooses. */
export function fakeTool(over: Partial<Tool> = {}): Tool {
  return {
    name: 'memory_save',
    title: 'Save',
    description: 'Saves a note.',
    scope: 'memory:write',
    class: 'write',
    labels: [],
    inputSchema: { type: 'object' },
    checkArgs: (args) => ({ ok: true, value: args }),
    checkOutput: (structured) => ({ ok: true, value: structured }),
    execute: () => Promise.resolve({ content: [{ type: 'text', text: 'saved' }] }),
    ...over,
  };
}

export const allow: Decision = {
  effect: 'allow',
  reasons: ['scope-granted'],
  obligations: {},
  classification: { class: 'write', labels: [] },
  matched: { flows: [] },
};

/** What `next()` answers in a stage test: the call was handed on. */
export const HANDED_ON: ToolCallOutcome = {
  kind: 'result',
  result: { content: [] },
  headers: { handed: 'on' },
};
export const handOn = () => Promise.resolve(HANDED_ON);

interface Fixture {
  readonly ctx: CallContext;
  /** The records committed, intent records included, in order. */
  readonly records: AuditEntry[];
}

export function fixture(
  opts: {
    deps?: Partial<PipelineDeps>;
    req?: Partial<ToolCallRequest>;
    ctx?: Partial<CallContext>;
    /** The audit log refuses every append. */
    auditDown?: boolean;
  } = {},
): Fixture {
  const records: AuditEntry[] = [];
  const deps = {
    metrics: createMetrics(),
    alerts: createAlertDetector(),
    logger: pino({ level: 'silent' }),
    now: () => new Date(T0),
    audit: {
      argsKey: Buffer.alloc(32, 1),
      log: {
        append: (entry: AuditEntry) => {
          if (opts.auditDown) return Promise.reject(new Error('disk full'));
          records.push(entry);
          return Promise.resolve();
        },
      },
    },
    ...opts.deps,
  } as unknown as PipelineDeps;
  const env: CallEnv = {
    deps,
    fullPayload: [],
    confirm: undefined as unknown as CallEnv['confirm'],
    decide: () => allow,
  };
  const ctx: CallContext = {
    ...startCall(env, {
      principal,
      meta: { requestId: 'req_1', ip: '127.0.0.1', bytesIn: 10 },
      params: { name: 'memory_save', arguments: {} },
      signal: new AbortController().signal,
      confirmVia: 'none',
      ...opts.req,
    }),
    name: 'memory_save',
    tool: fakeTool(),
    args: {},
    decision: allow,
    ...opts.ctx,
  };
  return { ctx, records };
}
