import type { AuthFailureReason } from '../auth/index.js';
import type { DecisionReason } from '../policy/index.js';
import type { RateLimitReason } from '../ratelimit/index.js';

/**
 * Every reason a request's audit record can carry, as one closed set: the policy's decision
 * reasons, authentication failures, rate-limit tiers, and what the later stages found.
 */
export type PipelineReason =
  | DecisionReason
  | AuthFailureReason
  | RateLimitReason
  | 'request-refused'
  | 'params-malformed'
  | 'arguments-not-canonical'
  | 'unknown-tool'
  | 'arguments-invalid'
  | 'tool-reported-error'
  | 'tool-input-error'
  | 'tool-failed'
  | 'output-invalid'
  | 'output-truncated'
  | 'output-redacted'
  | 'injection-annotated'
  | 'injection-redacted'
  | 'injection-quarantined'
  | 'client-disconnected'
  /** A 2026-07-28 retry delivered a caller's answers to an upstream's questions (park-call.ts). */
  | 'input-relayed'
  | 'internal-error'
  | 'audit-unavailable';
