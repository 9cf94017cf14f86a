export {
  mintConfirmationState,
  verifyConfirmationState,
  type CallBinding,
  type ConfirmationClaims,
  type StateCheck,
} from './confirmation-state.js';
export { loadConfirmationKey } from './load-confirmation-key.js';
export { createApprovalRoutes, type ApprovalPageDeps } from './approval-routes.js';
export {
  CONFIRM_KEY,
  confirmSchema,
  createConfirmStage,
  readElicitAnswer,
  type ConfirmDeps,
  type ConfirmStage,
  type ConfirmStep,
  type ElicitAnswer,
  type SessionHooks,
} from './confirm-call.js';
export { describeCall, type CallDescription } from './describe-call.js';
