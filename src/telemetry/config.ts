import { z } from 'zod';
import { secretRefSchema } from '../secrets/index.js';

/** RFC 9110 §5.1 field names (a token), lower-cased on the wire. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'an HTTP header name')
  .refine((n) => !['host', 'content-length', 'content-type', 'transfer-encoding'].includes(n.toLowerCase()), {
    message: 'the exporter sets this header itself',
  });

const otlpSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Export traces and metrics over OTLP/HTTP. Off: no OpenTelemetry code is loaded at all.'),
    endpoint: z
      .url({ protocol: /^https$/ })
      .optional()
      .describe(
        'The collector base URL (https only; through the egress guard, which allows only this host). ' +
          'Traces go to /v1/traces and metrics to /v1/metrics under it.',
      ),
    headers: z
      .record(headerName, secretRefSchema)
      .default({})
      .describe(
        'Headers sent with every export (a collector token), each value a secret reference (env:NAME or ' +
          'file:/path); the values join the redactor’s known secrets.',
      ),
    serviceName: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore')
      .default('portcullis')
      .describe('The `service.name` resource attribute.'),
    allowPrivateAddress: z
      .boolean()
      .default(false)
      .describe('Allow a collector on a private or loopback address (an agent on the same host or network).'),
    ca: z
      .string()
      .min(1)
      .optional()
      .describe('PEM file of the CA that signed the collector certificate (default: the system roots).'),
    exportIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(5000)
      .describe('How often finished spans and the metrics are sent (milliseconds).'),
  })
  .refine((o) => !o.enabled || o.endpoint !== undefined, {
    path: ['endpoint'],
    message: 'telemetry.otlp.endpoint is required when telemetry.otlp.enabled is true',
  })
  .describe(
    'OpenTelemetry over OTLP/HTTP (JSON): a trace per call with a span per pipeline stage, and call, ' +
      'denial and stage-latency metrics. Never argument values, output text, secrets or tenants.',
  );

export const telemetryConfigSchema = z
  .strictObject({
    otlp: otlpSchema.prefault({}),
  })
  .describe('Telemetry for the operator’s observability stack (optional, off by default).');

export type TelemetryConfig = z.output<typeof telemetryConfigSchema>;
export type OtlpConfig = TelemetryConfig['otlp'];
