export { createCatalogue, type Catalogue, type ListedTool } from './catalogue.js';
export { createMemoryTools } from './memory/tools.js';
export {
  defineTool,
  ToolInputError,
  type AnyToolDefinition,
  type ToolClass,
  type ToolContext,
  type ToolDefinition,
  type ToolLabel,
  type ToolOutput,
} from './types.js';
