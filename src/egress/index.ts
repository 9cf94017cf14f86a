export {
  createEgressGuard,
  type EgressGuard,
  type EgressGuardOptions,
  type EgressRequestInit,
  type EgressResponse,
} from './create-egress-guard.js';
export { classifyAddress, type BlockedRange } from './classify-address.js';
export type { Resolve, ResolvedAddress } from './create-connector.js';
export { webhookFetch, type WebhookReply } from './webhook-fetch.js';
export { EgressError, isEgressError, type EgressErrorCode } from './errors.js';
