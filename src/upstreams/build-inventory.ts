import {
  INSTRUCTIONS_KEY,
  pinStateOf,
  type Lockfile,
  type ObservedFile,
  type PinState,
} from '../pins/index.js';
import type { ToolClass, ToolLabel } from '../tools/index.js';
import { classifyTool } from './classify-tool.js';
import type { UpstreamConfig } from './config.js';
import { describeTarget } from './supervise-upstream.js';

export interface InventoryTool {
  readonly name: string;
  readonly servedAs: string;
  readonly class: ToolClass;
  readonly labels: readonly ToolLabel[];
  readonly scope: string;
  readonly pin: PinState;
  readonly approvedAt: string | undefined;
  /** The upstream's own annotations, recorded (never trusted to lower the class). */
  readonly annotations: Record<string, unknown> | undefined;
}

export interface InventoryEntry {
  readonly name: string;
  readonly transport: 'stdio' | 'http';
  /** Command line or URL. */
  readonly target: string;
  readonly sandbox: 'off' | 'on' | 'on, network allowed' | 'n/a';
  readonly pinning: UpstreamConfig['pinning'];
  readonly server: { readonly name?: string; readonly version?: string; readonly protocolVersion?: string };
  readonly observedAt: string | undefined;
  readonly instructions: PinState | undefined;
  readonly tools: readonly InventoryTool[];
  readonly lastApprovalAt: string | undefined;
}

/**
 * An SBOM-like view of every configured upstream: what it is, how it runs, what it serves and
 * under which classification, and where each definition stands against the lockfile. Pure:
 * built from the configuration, the lockfile and the gateway's last observation.
 */
export function buildInventory(
  configs: readonly UpstreamConfig[],
  lock: Lockfile,
  observed: ObservedFile,
): InventoryEntry[] {
  return configs.map((config) => {
    const seen = observed.upstreams[config.name];
    const l = lock.upstreams[config.name];
    const tools: InventoryTool[] = [];
    for (const [key, item] of Object.entries(seen?.items ?? {})) {
      if (key === INSTRUCTIONS_KEY) continue;
      const annotations = (item.definition as { annotations?: Record<string, unknown> }).annotations;
      const c = classifyTool(config.name, key, config.tools, annotations);
      tools.push({
        name: key,
        servedAs: `${config.name}__${key}`,
        class: c.class,
        labels: c.labels,
        scope: c.scope,
        pin: pinStateOf(l, key, item.hash),
        approvedAt: l?.approved[key]?.approvedAt,
        annotations,
      });
    }
    tools.sort((a, b) => a.name.localeCompare(b.name));
    const instructions = seen?.items[INSTRUCTIONS_KEY];
    const approvals = Object.values(l?.approved ?? {})
      .map((a) => a.approvedAt)
      .sort();
    return {
      name: config.name,
      transport: config.stdio ? 'stdio' : 'http',
      target: describeTarget(config),
      sandbox: config.http
        ? 'n/a'
        : config.sandbox === 'off'
          ? 'off'
          : config.sandbox.network
            ? 'on, network allowed'
            : 'on',
      pinning: config.pinning,
      server: seen?.server ?? {},
      observedAt: seen?.observedAt,
      instructions: instructions ? pinStateOf(l, INSTRUCTIONS_KEY, instructions.hash) : undefined,
      tools,
      lastApprovalAt: approvals[approvals.length - 1],
    };
  });
}
