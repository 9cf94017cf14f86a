export {
  createCatalogue,
  listedTool,
  type Catalogue,
  type CatalogueEntry,
  type ListedTool,
} from './catalogue.js';
export { defineTool, zodIssues, type BuiltInToolSpec } from './define-tool.js';
export { createMemoryTools } from './memory/tools.js';
export {
  ToolInputError,
  type Checked,
  type ContentBlock,
  type ObjectJsonSchema,
  type SchemaIssue,
  type Tool,
  type ToolClass,
  type ToolContext,
  type ToolLabel,
  type ToolOutput,
} from './types.js';
