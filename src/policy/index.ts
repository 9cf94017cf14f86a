export { decide, type Decision, type DecisionInput, type DecisionReason, type Effect } from './decide.js';
