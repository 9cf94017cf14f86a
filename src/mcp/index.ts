export { createMcpEndpoint, type McpEndpoint, type McpEndpointOptions } from './endpoint.js';
export {
  CALL_STAGES,
  createMcpPipeline,
  REQUEST_STAGES,
  who,
  type AuthOutcome,
  type McpPipeline,
  type PipelineDeps,
  type RequestMeta,
  type ToolCallOutcome,
  type ToolCallRequest,
} from './pipeline.js';
