export { createMcpEndpoint, type McpEndpoint } from './endpoint.js';
export { createMcpPipeline, who } from './pipeline.js';
export type { McpPipeline } from './context.js';
