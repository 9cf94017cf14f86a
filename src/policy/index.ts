export {
  compilePolicy,
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
export {
  policyConfigSchema,
  policyTimings,
  DEFAULT_FLOWS,
  type PolicyConfig,
  type FlowRule,
} from './config.js';
export { createTaintTracker, type TaintKey, type TaintTracker } from './track-taint.js';
export { hashArgs } from './hash-args.js';
export { checkPolicy, type PolicyFinding } from './check-policy.js';
export {
  ADMIN_SCOPE_PREFIX,
  capScopes,
  compileRole,
  DEFAULT_PERSON_ROLE,
  DEFAULT_ROLES,
  NO_SCOPES,
  type ScopeCeiling,
} from './roles.js';
