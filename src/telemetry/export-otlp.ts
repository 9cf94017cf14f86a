import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import type { CallSummary, CallTrace, CallTracer } from './call-tracer.js';
import { GuardedAgent, type ConnectCollector } from './guarded-agent.js';

/**
 * The OpenTelemetry side, loaded only when telemetry is on (start-telemetry.ts imports it
 * dynamically). One trace per call: a root span named after the method and its target, and a
 * child span per pipeline stage, covering the stage's own work up to the moment it hands on.
 * Spans and metrics carry only a CallSummary's fields (call-tracer.ts says what is left out).
 * Nothing is registered globally (no global tracer or meter provider, no context manager):
 * these providers serve the pipeline and nothing else in the process is instrumented.
 */
export function exportOtlp(opts: {
  readonly endpoint: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  readonly version: string;
  readonly exportIntervalMs: number;
  readonly connect: ConnectCollector;
  readonly logger: Logger;
}): { tracer: CallTracer; close(): Promise<void> } {
  // The SDK reports export failures through one global handler; they go to our (redacting) log.
  setGlobalErrorHandler((err) =>
    opts.logger.warn({ err: err instanceof Error ? err.message : JSON.stringify(err) }, 'OTLP export failed'),
  );
  const agent = new GuardedAgent(opts.connect);
  const base = opts.endpoint.href.replace(/\/+$/, '');
  const common = {
    headers: { ...opts.headers },
    httpAgentOptions: () => agent,
    timeoutMillis: 10_000,
  };
  const resource = resourceFromAttributes({
    'service.name': opts.serviceName,
    'service.version': opts.version,
  });
  const provider = new TracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ ...common, url: `${base}/v1/traces` }),
        scheduledDelayMillis: opts.exportIntervalMs,
      }),
    ],
  });
  const meters = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ ...common, url: `${base}/v1/metrics` }),
        exportIntervalMillis: opts.exportIntervalMs,
        exportTimeoutMillis: Math.min(opts.exportIntervalMs, 10_000),
      }),
    ],
  });
  const tracer = provider.getTracer('portcullis', opts.version);
  const meter = meters.getMeter('portcullis', opts.version);
  const calls = meter.createCounter('portcullis.calls', { description: 'Calls through the pipeline.' });
  const denials = meter.createCounter('portcullis.denials', {
    description: 'Denied calls, one count per reason.',
  });
  const callDuration = meter.createHistogram('portcullis.call.duration', {
    description: 'Time from a call entering the pipeline to its record being written.',
    unit: 'ms',
  });
  const stageDuration = meter.createHistogram('portcullis.stage.duration', {
    description: 'Time a pipeline stage spends before it hands on or ends the call.',
    unit: 'ms',
  });

  return {
    tracer: {
      begin(method): CallTrace {
        const root = tracer.startSpan(method, {
          kind: SpanKind.SERVER,
          attributes: { 'mcp.method.name': method },
        });
        const parent = trace.setSpan(ROOT_CONTEXT, root);
        let ended = false;
        return {
          stage(name) {
            const started = performance.now();
            const span = tracer.startSpan(name, { attributes: { 'portcullis.stage': name } }, parent);
            let open = true;
            return () => {
              if (!open) return;
              open = false;
              span.end();
              stageDuration.record(performance.now() - started, { 'portcullis.stage': name });
            };
          },
          end(summary) {
            if (ended) return;
            ended = true;
            describe(root, summary);
            root.end();
            const attrs = {
              'mcp.method.name': summary.method,
              'portcullis.decision': summary.decision,
              'portcullis.outcome': summary.outcome,
            };
            calls.add(1, attrs);
            callDuration.record(summary.latencyMs, attrs);
            if (summary.decision === 'deny')
              for (const reason of summary.reasons)
                denials.add(1, { 'mcp.method.name': summary.method, 'portcullis.reason': reason });
          },
        };
      },
    },
    async close() {
      await provider.shutdown().catch(() => undefined);
      await meters.shutdown().catch(() => undefined);
      agent.destroy();
    },
  };
}

/** The root span's name and attributes: the summary's fields, nothing else. */
function describe(root: Span, s: CallSummary): void {
  if (s.target !== undefined) root.updateName(`${s.method} ${s.target}`);
  root.setAttributes({
    'portcullis.correlation_id': s.correlationId,
    'portcullis.decision': s.decision,
    'portcullis.outcome': s.outcome,
    'portcullis.reasons': [...s.reasons],
    'portcullis.latency_ms': s.latencyMs,
    ...(s.target !== undefined ? { 'gen_ai.tool.name': s.target } : {}),
    ...(s.upstream !== undefined ? { 'portcullis.upstream': s.upstream } : {}),
    ...(s.toolClass !== undefined ? { 'portcullis.tool.class': s.toolClass } : {}),
    ...(s.errorCode !== undefined ? { 'error.type': s.errorCode } : {}),
  });
  if (s.outcome === 'failed') root.setStatus({ code: SpanStatusCode.ERROR });
}
