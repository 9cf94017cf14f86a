// Upstream MCP servers behind the gateway. See DESIGN.md in this folder.
export {
  upstreamsConfigSchema,
  type HttpConfig,
  type PersonAuthConfig,
  type PersonOAuthConfig,
  type PersonSecretConfig,
  type TokenExchangeConfig,
  type SandboxConfig,
  type StdioConfig,
  type ToolRule,
  type UpstreamConfig,
} from './config.js';
export {
  createUpstreamManager,
  type PinnedItemStatus,
  type UpstreamManager,
  type UpstreamManagerOptions,
} from './create-upstream-manager.js';
export { describeTarget, type UpstreamHealth, type UpstreamState } from './supervise-upstream.js';
export { classifyTool, type Classification } from './classify-tool.js';
export { UpstreamError, isUpstreamError, type UpstreamErrorCode } from './errors.js';
export { buildInventory, type InventoryEntry, type InventoryTool } from './build-inventory.js';
export type { PersonCredential, PersonCredentialSource, UpstreamIdentity } from './person-credentials.js';
