// Metrics and security alerts.
export { createMetrics, type DecisionEffect, type Metrics } from './metrics.js';
export { listenMetrics, type MetricsListener } from './listen-metrics.js';
export {
  createAlertDetector,
  logAlertHandler,
  webhookAlertHandler,
  type Alert,
  type AlertDetector,
  type AlertHandler,
  type AlertKind,
  type AlertOptions,
  type CallObservation,
} from './alerts.js';
