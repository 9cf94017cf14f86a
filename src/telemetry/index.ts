export { telemetryConfigSchema, type TelemetryConfig, type OtlpConfig } from './config.js';
export type { CallSummary, CallTrace, CallTracer } from './call-tracer.js';
export { startTelemetry, type Telemetry } from './start-telemetry.js';
