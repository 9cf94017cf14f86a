/**
 * The gateway's Prometheus metrics, on a registry of its own (never prom-client's global one, so
 * tests and several gateways in one process do not share counters). Label values are closed sets
 * (routes, stages, reasons, tiers), never user input, to keep cardinality bounded.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type DecisionEffect = 'allow' | 'deny' | 'confirm';

export interface Metrics {
  readonly registry: Registry;
  recordRequest(route: string, status: number): void;
  recordDecision(effect: DecisionEffect, reason: string): void;
  observeStage(stage: string, seconds: number): void;
  /** Starts timing a pipeline stage; the returned function records its duration. */
  startStage(stage: string): () => void;
  recordRateLimitRejection(tier: string): void;
  recordAuditSinkFailure(sink: string): void;
  /** The primary audit store refused a commit (calls are refused while it does). */
  recordAuditCommitFailure(): void;
  setUpstreamUp(upstream: string, up: boolean): void;
  /** The gauge reads this at scrape time (wire it to `auditLog.queueDepth`). */
  setAuditQueueDepthSource(source: () => number): void;
  /** The full readiness answer (names, errors, latencies), served as /readyz on this listener. */
  setReadinessSource(source: () => Promise<unknown>): void;
  /** The full readiness answer; undefined until a source is set. */
  readiness(): Promise<unknown> | undefined;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'portcullis_requests_total',
    help: 'HTTP requests by route and status code.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'portcullis_decisions_total',
    help: 'Policy decisions by effect and reason.',
    labelNames: ['effect', 'reason'] as const,
    registers: [registry],
  });
  const stages = new Histogram({
    name: 'portcullis_stage_duration_seconds',
    help: 'Time spent in each stage of the tool-call pipeline.',
    labelNames: ['stage'] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'portcullis_rate_limit_rejections_total',
    help: 'Requests refused by a rate-limit tier.',
    labelNames: ['tier'] as const,
    registers: [registry],
  });
  const sinkFailures = new Counter({
    name: 'portcullis_audit_sink_failures_total',
    help: 'Failed deliveries to secondary audit sinks (the primary audit store is unaffected).',
    labelNames: ['sink'] as const,
    registers: [registry],
  });
  const commitFailures = new Counter({
    name: 'portcullis_audit_commit_failures_total',
    help: 'Appends the primary audit store could not commit; each refused or failed a call.',
    registers: [registry],
  });
  let queueDepth: () => number = () => 0;
  let readiness: (() => Promise<unknown>) | undefined;
  new Gauge({
    name: 'portcullis_audit_queue_depth',
    help: 'Audit records waiting for or inside a commit.',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  const upstreamUp = new Gauge({
    name: 'portcullis_upstream_up',
    help: '1 when the upstream MCP server is reachable and initialised, else 0.',
    labelNames: ['upstream'] as const,
    registers: [registry],
  });

  return {
    registry,
    recordRequest: (route, status) => requests.inc({ route, status: String(status) }),
    recordDecision: (effect, reason) => decisions.inc({ effect, reason }),
    observeStage: (stage, seconds) => stages.observe({ stage }, seconds),
    startStage: (stage) => stages.startTimer({ stage }),
    recordRateLimitRejection: (tier) => rejections.inc({ tier }),
    recordAuditSinkFailure: (sink) => sinkFailures.inc({ sink }),
    recordAuditCommitFailure: () => commitFailures.inc(),
    setUpstreamUp: (upstream, up) => upstreamUp.set({ upstream }, up ? 1 : 0),
    setAuditQueueDepthSource(source) {
      queueDepth = source;
    },
    setReadinessSource(source) {
      readiness = source;
    },
    readiness: () => readiness?.(),
  };
}
