import { UpstreamError } from './errors.js';
import type { Channel, RpcConnection } from './rpc-connection.js';

/** MCP revisions this client speaks, newest first (2025-era `initialize` handshake). */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;

/** The parts of a tool definition that are pinned and served; everything else is dropped. */
export interface ToolDefinition {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: Record<string, unknown>;
  readonly outputSchema?: Record<string, unknown>;
  readonly annotations?: Record<string, unknown>;
}

/** A definition the server sent that cannot be served at all, with why. */
export interface MalformedTool {
  readonly name: string;
  readonly problem: string;
}

export interface ServerIdentity {
  readonly protocolVersion: string;
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly instructions: string | undefined;
  readonly listChanged: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : undefined);

/** Runs the `initialize` handshake (MCP basic/lifecycle) declaring no client capabilities. */
export async function initialize(
  conn: RpcConnection,
  channel: Channel,
  options: { timeoutMs: number; clientVersion: string },
): Promise<ServerIdentity> {
  const result = await conn.request(
    'initialize',
    {
      protocolVersion: SUPPORTED_PROTOCOL_VERSIONS[0],
      capabilities: {},
      clientInfo: { name: 'portcullis', version: options.clientVersion },
    },
    { timeoutMs: options.timeoutMs },
  );
  if (!isObject(result) || typeof result.protocolVersion !== 'string') {
    throw new UpstreamError(
      'upstream-protocol-error',
      'The upstream server sent a malformed initialize result.',
    );
  }
  const version = result.protocolVersion;
  if (!(SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(version)) {
    throw new UpstreamError(
      'upstream-protocol-error',
      `The upstream server speaks an unsupported MCP revision.`,
      {
        detail: `protocolVersion ${version.slice(0, 40)}`,
      },
    );
  }
  channel.setProtocolVersion?.(version);
  await conn.notify('notifications/initialized');
  const info = isObject(result.serverInfo) ? result.serverInfo : {};
  const caps = isObject(result.capabilities) ? result.capabilities : {};
  return {
    protocolVersion: version,
    name: optString(info.name, 200),
    version: optString(info.version, 100),
    instructions: optString(result.instructions, 64 * 1024),
    listChanged: isObject(caps.tools) && caps.tools.listChanged === true,
  };
}

/** Checks one listed tool's shape; the pinned fields are copied, nothing else. */
function parseToolDefinition(raw: unknown): ToolDefinition | MalformedTool {
  if (!isObject(raw)) return { name: '(not an object)', problem: 'definition is not an object' };
  const name = typeof raw.name === 'string' ? raw.name : '';
  const shownName = name.slice(0, 128) || '(no name)';
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
    return { name: shownName, problem: 'name must be 1–128 of A-Z a-z 0-9 _ - .' };
  }
  if (!isObject(raw.inputSchema) || raw.inputSchema.type !== 'object') {
    return { name, problem: 'inputSchema must be a JSON Schema object with type "object"' };
  }
  if (raw.outputSchema !== undefined && (!isObject(raw.outputSchema) || raw.outputSchema.type !== 'object')) {
    return { name, problem: 'outputSchema must be a JSON Schema object with type "object"' };
  }
  for (const field of ['title', 'description'] as const) {
    if (raw[field] !== undefined && typeof raw[field] !== 'string')
      return { name, problem: `${field} must be a string` };
  }
  if (raw.annotations !== undefined && !isObject(raw.annotations))
    return { name, problem: 'annotations must be an object' };
  return {
    name,
    ...(typeof raw.title === 'string' ? { title: raw.title } : {}),
    ...(typeof raw.description === 'string' ? { description: raw.description } : {}),
    inputSchema: raw.inputSchema,
    ...(isObject(raw.outputSchema) ? { outputSchema: raw.outputSchema } : {}),
    ...(isObject(raw.annotations) ? { annotations: raw.annotations } : {}),
  };
}

/** Every page of `tools/list`, bounded so a server cannot keep the gateway paging forever. */
export async function listTools(
  conn: RpcConnection,
  options: { timeoutMs: number; maxPages?: number; maxTools?: number },
): Promise<{ tools: ToolDefinition[]; malformed: MalformedTool[] }> {
  const maxPages = options.maxPages ?? 64;
  const maxTools = options.maxTools ?? 1000;
  const tools: ToolDefinition[] = [];
  const malformed: MalformedTool[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const result = await conn.request('tools/list', cursor ? { cursor } : undefined, {
      timeoutMs: options.timeoutMs,
    });
    if (!isObject(result) || !Array.isArray(result.tools)) {
      throw new UpstreamError(
        'upstream-protocol-error',
        'The upstream server sent a malformed tools/list result.',
      );
    }
    for (const raw of result.tools) {
      if (tools.length + malformed.length >= maxTools) break;
      const parsed = parseToolDefinition(raw);
      if (seen.has(parsed.name)) {
        malformed.push({ name: parsed.name, problem: 'listed more than once' });
        continue;
      }
      seen.add(parsed.name);
      if ('problem' in parsed) malformed.push(parsed);
      else tools.push(parsed);
    }
    if (typeof result.nextCursor !== 'string' || result.nextCursor === '' || result.nextCursor === cursor) {
      return { tools, malformed };
    }
    cursor = result.nextCursor;
  }
  throw new UpstreamError('upstream-protocol-error', 'The upstream server paginated tools/list without end.');
}
