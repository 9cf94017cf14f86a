import { createEgressGuard } from '../egress/index.js';
import type { NoteStore } from '../storage/index.js';
import type { ToolsConfig } from './config.js';
import { createMemoryTools } from './memory/tools.js';
import type { Tool } from './types.js';
import { createWebFetchTool } from './web-fetch/index.js';

export interface BuiltInTools {
  readonly tools: Tool[];
  /** Closes what the tools hold open (web_fetch's egress guard). */
  close(): Promise<void>;
}

/**
 * The built-in tools the configuration enables. `offline`: the tools are only listed and
 * their arguments checked (the CLI's policy commands), so web_fetch gets a guard that reaches
 * no host at all.
 */
export function createBuiltInTools(
  config: ToolsConfig,
  notes: NoteStore,
  options: { readonly offline?: boolean } = {},
): BuiltInTools {
  const tools: Tool[] = [];
  const closers: (() => Promise<void>)[] = [];
  if (config.memory.enabled) tools.push(...createMemoryTools(notes));
  if (config.webFetch.enabled) {
    const wf = config.webFetch;
    const guard = options.offline
      ? createEgressGuard({ allowHosts: [] })
      : createEgressGuard({
          allowHosts: wf.allowHosts,
          allowHttpHosts: wf.allowHttpHosts,
          allowAddresses: wf.allowAddresses,
          maxBytes: wf.maxBytes,
          timeoutMs: wf.timeoutMs,
        });
    closers.push(() => guard.close());
    tools.push(createWebFetchTool(guard, { maxChars: wf.maxChars }));
  }
  return {
    tools,
    async close() {
      for (const close of closers) await close();
    },
  };
}
