// Fast state shared by replicas, in Redis (optional): one connection factory, the key prefix,
// pub/sub with a health signal, and a probe for readiness.
export {
  openSharedState,
  type SharedState,
  type SharedStateConfig,
  type SharedStateOptions,
  type SubscriptionListener,
} from './open-shared-state.js';
