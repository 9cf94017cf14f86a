export {
  createEgressGuard,
  type EgressGuard,
  type EgressGuardOptions,
  type EgressRequestInit,
  type EgressResponse,
  type TlsTarget,
} from './create-egress-guard.js';
export { classifyAddress, INTERNAL_NETWORK_RANGES, type BlockedRange } from './classify-address.js';
export type { Resolve, ResolvedAddress } from './create-connector.js';
export { webhookFetch, type WebhookReply } from './webhook-fetch.js';
export { EgressError, isEgressError, type EgressErrorCode } from './errors.js';
export { guardRequestBody } from './request-body.js';
