import {
  INSTRUCTIONS_KEY,
  parsePinKey,
  pinStateOf,
  type Lockfile,
  type ObservedFile,
  type PinState,
} from '../pins/index.js';
import { joinResourceUri, type ToolClass, type ToolLabel } from '../tools/index.js';
import { classifySurface } from './classify-surface.js';
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

/** A prompt or resource template, as served, with its scope, labels and pin state. */
export interface InventorySurfaceItem {
  /** The prompt name or uriTemplate as the upstream gives it. */
  readonly name: string;
  readonly servedAs: string;
  readonly labels: readonly ToolLabel[];
  readonly scope: string;
  readonly pin: PinState;
  readonly approvedAt: string | undefined;
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
  readonly prompts: readonly InventorySurfaceItem[];
  readonly resourceTemplates: readonly InventorySurfaceItem[];
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
    const prompts: InventorySurfaceItem[] = [];
    const resourceTemplates: InventorySurfaceItem[] = [];
    const unprefixed = config.namespace === '';
    for (const [key, item] of Object.entries(seen?.items ?? {})) {
      const { kind, name } = parsePinKey(key);
      if (kind === 'instructions') continue;
      const pin = pinStateOf(l, key, item.hash);
      const approvedAt = l?.approved[key]?.approvedAt;
      if (kind === 'prompt') {
        const c = classifySurface(config.name, 'prompts', name, config.prompts);
        prompts.push({
          name,
          servedAs: unprefixed ? name : `${config.name}__${name}`,
          ...c,
          pin,
          approvedAt,
        });
        continue;
      }
      if (kind === 'resource-template') {
        const c = classifySurface(config.name, 'resources', name, config.resources);
        const servedAs = joinResourceUri(config.name, name, unprefixed);
        resourceTemplates.push({ name, servedAs, ...c, pin, approvedAt });
        continue;
      }
      const annotations = (item.definition as { annotations?: Record<string, unknown> }).annotations;
      const c = classifyTool(config.name, key, config.tools, annotations);
      tools.push({
        name: key,
        servedAs: unprefixed ? key : `${config.name}__${key}`,
        class: c.class,
        labels: c.labels,
        scope: c.scope,
        pin,
        approvedAt,
        annotations,
      });
    }
    for (const list of [tools, prompts, resourceTemplates]) list.sort((a, b) => a.name.localeCompare(b.name));
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
      prompts,
      resourceTemplates,
      lastApprovalAt: approvals[approvals.length - 1],
    };
  });
}
