export {
  classifyTool,
  compilePolicy,
  confirmsAlways,
  decide,
  expandRoles,
  toolRuleFor,
  type ApprovalChannel,
  type Decision,
  type DecisionInput,
  type DecisionReason,
  type Effect,
  type Policy,
  type PolicyTool,
} from './decide.js';
export { policyConfigSchema, policyTimings, type PolicyConfig, type FlowRule } from './config.js';
export { createTaintTracker, type TaintKey, type TaintTracker } from './track-taint.js';
export { hashArgs } from './hash-args.js';
export { checkPolicy, type PolicyFinding } from './check-policy.js';
export { capScopes, DEFAULT_PERSON_ROLE, NO_SCOPES, type ScopeCeiling } from './roles.js';
