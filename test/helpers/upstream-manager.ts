import fs from 'node:fs';
import path from 'node:path';
import { openSqliteStorage, type Storage } from '../../src/storage/index.js';
import type { CallNotification, Catalogue, ToolContext } from '../../src/tools/index.js';
import { createCatalogue } from '../../src/tools/index.js';
import {
  createUpstreamManager,
  upstreamsConfigSchema,
  type UpstreamManager,
} from '../../src/upstreams/index.js';
import type { SurfaceEvent } from '../../src/tools/index.js';
import { runCli } from './cli.js';
import { tempDir } from './gateway.js';
import { capturingLogger, eventually } from './upstream-servers.js';

/**
 * An upstream manager with a real catalogue and a fresh data directory, without the HTTP side:
 * for tests of what upstreams/ publishes (surfaces, pins, notifications) with real servers.
 */
export interface ManagerHarness {
  readonly manager: UpstreamManager;
  readonly catalogue: Catalogue;
  readonly dataDir: string;
  /** The data directory's default SQLite storage, where the manager keeps its pins. */
  readonly storage: Storage;
  readonly lines: string[];
  readonly events: { upstream: string; event: SurfaceEvent }[];
  /** `portcullis pins approve <upstream> [item]` against this data directory. */
  approve(upstream: string, item?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startManager(
  upstreams: readonly Record<string, unknown>[],
  env: NodeJS.ProcessEnv = {},
): Promise<ManagerHarness> {
  const dataDir = tempDir('portcullis-manager-');
  const log = capturingLogger();
  const catalogue = createCatalogue([]);
  const events: { upstream: string; event: SurfaceEvent }[] = [];
  // The default storage of a data directory without a configuration: what the CLI opens too.
  const storage = openSqliteStorage(path.join(dataDir, 'portcullis.db'));
  const manager = createUpstreamManager({
    upstreams: upstreamsConfigSchema.parse(upstreams),
    catalogue,
    dataDir,
    pins: storage.pins,
    env: { PATH: process.env.PATH ?? '', ...env },
    logger: log.logger,
    lockfilePollMs: 100,
  });
  manager.onSurfaceEvent((upstream, event) => events.push({ upstream, event }));
  await manager.start();
  return {
    manager,
    catalogue,
    dataDir,
    storage,
    lines: log.lines,
    events,
    async approve(upstream, item) {
      const r = await runCli(['pins', 'approve', upstream, ...(item ? [item] : []), '--data-dir', dataDir]);
      if (r.code !== 0) throw new Error(r.stderr);
      await manager.reloadPins();
    },
    async close() {
      await manager.close();
      await storage.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A call context for one caller, keeping what is relayed to it. */
export function callerContext(
  opts: { progressToken?: string | number; logLevel?: ToolContext['logLevel']; signal?: AbortSignal } = {},
): ToolContext & { readonly received: CallNotification[] } {
  const received: CallNotification[] = [];
  return {
    principal: {
      subject: 'alice',
      tenant: 't1',
      credentialId: 'k1',
      authMethod: 'api-key',
      scopes: new Set(),
    } as never,
    requestId: `r-${Math.random().toString(36).slice(2)}`,
    signal: opts.signal ?? new AbortController().signal,
    notify: (n) => received.push(n),
    ...(opts.progressToken !== undefined ? { progressToken: opts.progressToken } : {}),
    ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
    received,
  };
}

export { eventually };
