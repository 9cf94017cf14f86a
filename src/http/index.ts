// The gateway's HTTP surface: the Hono app and the listener's connection limits.
export { createApp, createConsoleApp, hostOriginPolicy, type AppDeps } from './app.js';
export { bindListener, type BoundListener } from './bind-listener.js';
export { clientAddress } from './client-address.js';
export {
  createReadinessCheck,
  publicReadiness,
  type PublicReadiness,
  type Readiness,
  type ReadinessProbes,
} from './readiness.js';
export {
  defaultMaxPerAddress,
  limitConnections,
  listenerOptions,
  type ConnectionLimits,
} from './limit-connections.js';
