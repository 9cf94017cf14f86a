// A timeline of what blocked the event loop, for finding the latency tail: a 1 ms timer records
// its own lateness (a stall is a tick later than `thresholdMs`), a PerformanceObserver records every
// garbage collection (kind, start, duration), and callers add spans of their own (`mark`, e.g. each
// audit commit). `startStallTrace(file)` writes everything as one JSON document to `file` when
// `stop()` is called. Times are performance.now() milliseconds. Diagnosis only: off unless a bench
// is given BENCH_STALL_TRACE.
import fs from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';

export interface StallTrace {
  mark(kind: string, start: number, end: number, detail?: Record<string, unknown>): void;
  stop(): void;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export function startStallTrace(file: string, thresholdMs = 5): StallTrace {
  // Per stall, how the main thread spent it (Linux /proc/thread-self/schedstat: ns on the CPU, ns
  // waiting for a CPU): `cpuMs` is work on the thread (JS, GC on the main thread, SQLite), `queuedMs`
  // is the thread ready but not scheduled (the machine is busy), the rest (`blockedMs`) is a
  // synchronous wait in a system call (an fsync, a lock).
  const stalls: { at: number; lateMs: number; cpuMs?: number; queuedMs?: number; blockedMs?: number }[] = [];
  const schedstat = (): [number, number] | undefined => {
    try {
      const [run, wait] = fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
      return [Number(run) / 1e6, Number(wait) / 1e6];
    } catch {
      return undefined;
    }
  };
  let sched = schedstat();
  const gcs: { kind: string; at: number; ms: number }[] = [];
  const spans: { kind: string; at: number; ms: number; detail?: Record<string, unknown> }[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const t = performance.now();
    const late = t - last - 1;
    const now = schedstat();
    if (late > thresholdMs) {
      const r = (x: number) => Math.round(x * 10) / 10;
      const stall: (typeof stalls)[number] = { at: Math.round(last), lateMs: r(late) };
      if (now && sched) {
        stall.cpuMs = r(now[0] - sched[0]);
        stall.queuedMs = r(now[1] - sched[1]);
        stall.blockedMs = r(t - last - (now[0] - sched[0]) - (now[1] - sched[1]));
      }
      stalls.push(stall);
    }
    sched = now;
    last = t;
  }, 1);
  timer.unref();
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      gcs.push({ kind, at: Math.round(e.startTime * 10) / 10, ms: Math.round(e.duration * 100) / 100 });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    mark(kind, start, end, detail) {
      spans.push({
        kind,
        at: Math.round(start * 10) / 10,
        ms: Math.round((end - start) * 100) / 100,
        ...(detail ? { detail } : {}),
      });
    },
    stop() {
      clearInterval(timer);
      observer.disconnect();
      fs.writeFileSync(file, JSON.stringify({ stalls, gcs, spans }));
    },
  };
}
