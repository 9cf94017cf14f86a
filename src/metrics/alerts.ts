/**
 * Sliding-window anomaly detectors over tool calls. Pure in the sense that matters: time is passed
 * in with each observation and nothing here reads a clock or does I/O; alerts are handed to the
 * registered handlers (which may log or post through an injected fetch).
 *
 * - `denial-spike`: many denied-scope or invalid-argument outcomes from one credential in a short
 *   window — a client probing what it may do.
 * - `call-volume-anomaly`: a credential's calls in the current bucket far above its own recent
 *   average — a leaked key or a runaway agent.
 * - `private-data-to-external-sink`: in one session (or, without one, one principal), a successful
 *   call of a tool labelled `private-data` followed within a window by a call of a tool labelled
 *   `external-sink` — the shape of an exfiltration, whatever the policy decided about it.
 */
import type { Logger } from 'pino';

export type AlertKind = 'denial-spike' | 'call-volume-anomaly' | 'private-data-to-external-sink';

export interface Alert {
  readonly kind: AlertKind;
  readonly credentialId: string;
  readonly detail: string;
  /** Epoch milliseconds of the observation that raised it. */
  readonly at: number;
}

export interface CallObservation {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly credentialId: string;
  readonly sessionId?: string;
  readonly principal?: string;
  readonly tool: string;
  /** The operator's data labels of the tool. */
  readonly labels: readonly string[];
  readonly outcome: 'ok' | 'denied' | 'invalid' | 'failed' | 'rate-limited' | 'unauthenticated';
}

export type AlertHandler = (alert: Alert) => void | Promise<void>;

export interface AlertOptions {
  readonly denialSpike?: { readonly windowMs: number; readonly threshold: number };
  readonly volume?: {
    readonly bucketMs: number;
    /** How many past buckets form the baseline. */
    readonly baselineBuckets: number;
    /** Past buckets needed before the baseline is trusted (a new credential has none). */
    readonly minHistoryBuckets: number;
    readonly factor: number;
    readonly minCalls: number;
  };
  readonly exfiltration?: { readonly windowMs: number };
  /** One alert of a kind per credential (or session) per this long. */
  readonly cooldownMs?: number;
  /** Called when a handler throws or rejects. */
  readonly onHandlerError?: (err: unknown) => void;
}

export interface AlertDetector {
  /** Feeds one call; returns (and dispatches) the alerts it raised. */
  observe(call: CallObservation): Alert[];
  onAlert(handler: AlertHandler): void;
}

const MINUTE = 60_000;
const DEFAULTS = {
  denialSpike: { windowMs: MINUTE, threshold: 10 },
  volume: { bucketMs: MINUTE, baselineBuckets: 60, minHistoryBuckets: 5, factor: 5, minCalls: 30 },
  exfiltration: { windowMs: 30 * MINUTE },
  cooldownMs: 10 * MINUTE,
};

export function createAlertDetector(options: AlertOptions = {}): AlertDetector {
  const spike = options.denialSpike ?? DEFAULTS.denialSpike;
  const volume = options.volume ?? DEFAULTS.volume;
  const exfil = options.exfiltration ?? DEFAULTS.exfiltration;
  const cooldownMs = options.cooldownMs ?? DEFAULTS.cooldownMs;
  const handlers: AlertHandler[] = [];

  const denials = new Map<string, number[]>();
  const buckets = new Map<string, { first: number; counts: Map<number, number> }>();
  const lastPrivateRead = new Map<string, { at: number; tool: string }>();
  const lastAlert = new Map<string, number>();

  function raise(kind: AlertKind, scope: string, call: CallObservation, detail: string, out: Alert[]): void {
    const key = `${kind}|${scope}`;
    const previous = lastAlert.get(key);
    if (previous !== undefined && call.at - previous < cooldownMs) return;
    lastAlert.set(key, call.at);
    out.push({ kind, credentialId: call.credentialId, detail, at: call.at });
  }

  function checkDenials(call: CallObservation, out: Alert[]): void {
    if (call.outcome !== 'denied' && call.outcome !== 'invalid') return;
    const times = (denials.get(call.credentialId) ?? []).filter((t) => call.at - t < spike.windowMs);
    times.push(call.at);
    denials.set(call.credentialId, times);
    if (times.length >= spike.threshold) {
      raise(
        'denial-spike',
        call.credentialId,
        call,
        `${times.length} denied or invalid calls in ${spike.windowMs / 1000}s`,
        out,
      );
    }
  }

  function checkVolume(call: CallObservation, out: Alert[]): void {
    const bucket = Math.floor(call.at / volume.bucketMs);
    const state = buckets.get(call.credentialId) ?? { first: bucket, counts: new Map<number, number>() };
    buckets.set(call.credentialId, state);
    for (const b of state.counts.keys()) if (b < bucket - volume.baselineBuckets) state.counts.delete(b);
    const current = (state.counts.get(bucket) ?? 0) + 1;
    state.counts.set(bucket, current);
    const history = Math.min(volume.baselineBuckets, bucket - state.first);
    if (history < volume.minHistoryBuckets) return;
    let past = 0;
    for (const [b, n] of state.counts) if (b < bucket && b >= bucket - history) past += n;
    const baseline = past / history;
    if (current >= volume.minCalls && current > volume.factor * baseline) {
      raise(
        'call-volume-anomaly',
        call.credentialId,
        call,
        `${current} calls this ${volume.bucketMs / 1000}s against a baseline of ${baseline.toFixed(1)}`,
        out,
      );
    }
  }

  function checkExfiltration(call: CallObservation, out: Alert[]): void {
    const scope =
      call.sessionId !== undefined
        ? `session:${call.sessionId}`
        : `principal:${call.principal ?? call.credentialId}`;
    const read = lastPrivateRead.get(scope);
    if (read && call.at - read.at > exfil.windowMs) lastPrivateRead.delete(scope);
    if (call.labels.includes('external-sink') && read && call.at - read.at <= exfil.windowMs) {
      raise(
        'private-data-to-external-sink',
        scope,
        call,
        `${call.tool} (external sink) called ${Math.round((call.at - read.at) / 1000)}s after ${read.tool} read private data in ${scope}`,
        out,
      );
    }
    if (call.labels.includes('private-data') && call.outcome === 'ok')
      lastPrivateRead.set(scope, { at: call.at, tool: call.tool });
  }

  function dispatch(alert: Alert): void {
    for (const handler of handlers) {
      try {
        const result = handler(alert);
        if (result) result.catch((err: unknown) => options.onHandlerError?.(err));
      } catch (err) {
        options.onHandlerError?.(err);
      }
    }
  }

  return {
    observe(call) {
      const out: Alert[] = [];
      checkDenials(call, out);
      checkVolume(call, out);
      checkExfiltration(call, out);
      out.forEach(dispatch);
      return out;
    },
    onAlert(handler) {
      handlers.push(handler);
    },
  };
}

/** Logs each alert as a warning. */
export function logAlertHandler(logger: Pick<Logger, 'warn'>): AlertHandler {
  return (alert) => {
    logger.warn({ alert }, `security alert: ${alert.kind}`);
  };
}

/** Posts each alert as JSON through an injected fetch (pass the egress guard's). */
export function webhookAlertHandler(options: {
  readonly url: string;
  readonly fetch: (
    url: string,
    init: { method: 'POST'; headers: Record<string, string>; body: string },
  ) => Promise<{ ok: boolean; status: number }>;
}): AlertHandler {
  return async (alert) => {
    const response = await options.fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alert),
    });
    if (!response.ok) throw new Error(`alert webhook answered ${response.status}`);
  };
}
