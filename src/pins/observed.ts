import fs from 'node:fs';
import type { DefinitionReport } from '../safety/index.js';

export const OBSERVED_FILE_NAME = 'upstreams-observed.json';

/** One pinned item (a tool definition or the instructions) as the gateway last saw it. */
export interface ObservedItem {
  readonly hash: string;
  readonly definition: unknown;
  readonly scan: DefinitionReport;
}

export interface ObservedUpstream {
  readonly observedAt: string;
  readonly transport: 'stdio' | 'http';
  /** Command line or URL, as configured (never a secret: those are references). */
  readonly target: string;
  readonly server: { readonly name?: string; readonly version?: string; readonly protocolVersion?: string };
  readonly items: Readonly<Record<string, ObservedItem>>;
  readonly malformed: readonly { readonly name: string; readonly problem: string }[];
}

/**
 * What the running gateway last saw of each upstream: runtime state in the data directory (not
 * committed), which `portcullis pins` and `portcullis inventory` read to show pending changes.
 */
export interface ObservedFile {
  readonly observedVersion: 1;
  readonly upstreams: Readonly<Record<string, ObservedUpstream>>;
}

export function readObserved(file: string): ObservedFile {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as ObservedFile;
    if (parsed?.observedVersion === 1 && typeof parsed.upstreams === 'object') return parsed;
  } catch {
    // absent or unreadable: nothing observed yet
  }
  return { observedVersion: 1, upstreams: {} };
}
