/**
 * What the pipeline tells telemetry about a call: the stages it went through and how it ended,
 * as plain data. No OpenTelemetry type appears here, so the pipeline compiles and runs without
 * the SDK; the exporter (export-otlp.ts) is loaded only when telemetry is on.
 */
export interface CallTracer {
  /** A call entered the pipeline. */
  begin(method: string): CallTrace;
}

export interface CallTrace {
  /** A stage began; the function returned ends it (idempotent). */
  stage(name: string): () => void;
  /** The call ended (its record is written); called once. */
  end(summary: CallSummary): void;
}

/**
 * The facts about a call that may leave the gateway. Deliberately not the audit record: no
 * arguments (not even their hash or shape), no output, no principal, tenant, client, credential or
 * session, and no name the caller chose (an unknown tool's name, a resource URI).
 */
export interface CallSummary {
  readonly method: string;
  /** The request id: the audit record's correlation id, to go from a trace to its record. */
  readonly correlationId: string;
  /** The catalogue's name of the target; absent when nothing answered to the name, or for a resource. */
  readonly target?: string;
  readonly upstream?: string;
  readonly toolClass?: string;
  readonly decision: string;
  readonly outcome: string;
  readonly reasons: readonly string[];
  readonly errorCode?: string;
  readonly latencyMs: number;
}
