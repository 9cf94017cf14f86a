export { createCatalogue, type Catalogue, type CatalogueEntry, type ListedTool } from './catalogue.js';
export { BUILT_IN_SCOPES } from './built-in-scopes.js';
export { createBuiltInTools, type BuiltInTools } from './built-in.js';
export { toolsConfigSchema, type ToolsConfig } from './config.js';
export { defineTool, type BuiltInToolSpec } from './define-tool.js';
export { createMemoryTools } from './memory/tools.js';
export {
  isLogLevel,
  LOG_LEVELS,
  MissingCapabilityError,
  ToolInputError,
  type Checked,
  type ContentBlock,
  type ObjectJsonSchema,
  type SchemaIssue,
  type Tool,
  type ToolClass,
  type CallNotification,
  type InputRequest,
  type InputRequestMethod,
  type LogLevel,
  type ToolContext,
  type ToolLabel,
  type ToolOutput,
} from './types.js';
export {
  isGatewayUri,
  joinResourceUri,
  RESOURCE_URI_PREFIX,
  splitResourceUri,
  type CompletionRef,
  type ListedPrompt,
  type ListedResource,
  type ListedResourceTemplate,
  type PromptEntry,
  type ResourcePage,
  type ResourceTemplateEntry,
  type SurfaceEvent,
  type SurfaceMethod,
  type SurfaceOperation,
  type UpstreamSurface,
} from './surface.js';
