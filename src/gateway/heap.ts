import v8 from 'node:v8';

/**
 * Node flags the gateway is launched with: ones V8 reads only when the process starts, so
 * `keepHeapNearLiveSize` cannot set them. Every launcher passes them (`bin/portcullis`,
 * `npm start`, deploy/Containerfile, deploy/portcullis.service; heap.test.ts checks).
 *
 * `--max-semi-space-size=8`: V8 otherwise grows the young generation to 2 × 16 MiB during the
 * start-up allocation burst and keeps it, mostly empty, resident; under 1,000 clients it is
 * full garbage between scavenges. 8 MiB semi-spaces cost no measurable CPU per request on the
 * bench (bench/clients-only.ts and a 32-connection load, alternated with the default) and cut
 * idle RSS by ~15 MiB and the 1,000-client peak by ~10–25 MiB. Smaller (4 MiB) cut more, but
 * cost ~15% more CPU per request (more objects promoted, then collected as old).
 */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=8'] as const;

/** How far V8 may let the old generation grow past what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 20;

/**
 * Keeps the heap nearer its live size. By default V8 lets the old generation grow to up to four
 * times what survived the last full collection before it collects again; under a burst of 1,000
 * clients that was one full collection in the whole run, 172 MiB of heap before it and 85 MiB
 * after (bench/clients-only.ts, `--trace-gc`). A fixed growing factor collects sooner. V8 reads
 * `--heap-growing-percent` each time it sets the next limit, so setting it here, before the
 * gateway builds anything, holds for the whole run (a command-line flag still overrides it). It
 * changes when memory is reclaimed, never what the program does. Not `--optimize-for-size`: that
 * also makes the compiler favour size, and cost ~50% more CPU for the same clients.
 */
export function keepHeapNearLiveSize(): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  if (given.includes('--heap-growing-percent') || given.includes('--heap_growing_percent')) return;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
