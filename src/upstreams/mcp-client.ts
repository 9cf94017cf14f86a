import { SERVER_INFO_META_KEY } from '@modelcontextprotocol/server';
import { promptKey, templateKey } from '../pins/index.js';
import { MODERN_REVISION, requestEnvelope } from './build-envelope.js';
import { isUpstreamError, UpstreamError } from './errors.js';
import type { Channel, RpcConnection } from './rpc-connection.js';

/** MCP revisions this client speaks at `initialize`, newest first (the 2025 era). */
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

/** The parts of a prompt definition that are pinned and served (MCP server/prompts). */
export interface PromptDefinition {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly arguments?: readonly PromptArgumentDefinition[];
}

export interface PromptArgumentDefinition {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly required?: boolean;
}

/** The parts of a resource template that are pinned and served (MCP server/resources). */
export interface ResourceTemplateDefinition {
  readonly uriTemplate: string;
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly mimeType?: string;
  readonly annotations?: Record<string, unknown>;
}

/**
 * A definition the server sent that cannot be served at all, with why. `name` is the key it
 * would have been pinned under (a tool name, `prompt:<name>`, `resource-template:<uriTemplate>`).
 */
export interface MalformedTool {
  readonly name: string;
  readonly problem: string;
}

/** What the server declared it can do, as far as the gateway relays it. */
export interface ServerCapabilities {
  readonly tools: { readonly listChanged: boolean } | undefined;
  readonly prompts: { readonly listChanged: boolean } | undefined;
  readonly resources: { readonly subscribe: boolean; readonly listChanged: boolean } | undefined;
  readonly completions: boolean;
  readonly logging: boolean;
}

export interface ServerIdentity {
  readonly protocolVersion: string;
  /** 2026-07-28 (`server/discover`, no session, an envelope on every request) or the 2025 era. */
  readonly era: 'modern' | 'legacy';
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly instructions: string | undefined;
  /** `capabilities.tools.listChanged` (kept for the callers that only care about tools). */
  readonly listChanged: boolean;
  readonly capabilities: ServerCapabilities;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : undefined);

/** The capabilities object of an initialize result, read strictly: only `true` means yes. */
export function readCapabilities(raw: unknown): ServerCapabilities {
  const caps = isObject(raw) ? raw : {};
  const flag = (section: unknown, key: string) => isObject(section) && section[key] === true;
  return {
    tools: isObject(caps.tools) ? { listChanged: flag(caps.tools, 'listChanged') } : undefined,
    prompts: isObject(caps.prompts) ? { listChanged: flag(caps.prompts, 'listChanged') } : undefined,
    resources: isObject(caps.resources)
      ? { subscribe: flag(caps.resources, 'subscribe'), listChanged: flag(caps.resources, 'listChanged') }
      : undefined,
    completions: isObject(caps.completions),
    logging: isObject(caps.logging),
  };
}

/** Runs the `initialize` handshake (MCP basic/lifecycle), declaring only the client capabilities given. */
export async function initialize(
  conn: RpcConnection,
  channel: Channel,
  options: { timeoutMs: number; clientVersion: string; capabilities?: Record<string, unknown> },
): Promise<ServerIdentity> {
  const result = await conn.request(
    'initialize',
    {
      protocolVersion: SUPPORTED_PROTOCOL_VERSIONS[0],
      capabilities: options.capabilities ?? {},
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
  const capabilities = readCapabilities(result.capabilities);
  return {
    protocolVersion: version,
    era: 'legacy',
    name: optString(info.name, 200),
    version: optString(info.version, 100),
    instructions: optString(result.instructions, 64 * 1024),
    listChanged: capabilities.tools?.listChanged ?? false,
    capabilities,
  };
}

/**
 * Probes with the 2026-07-28 `server/discover` (basic/lifecycle): the identity when the server
 * lists 2026-07-28 among its `supportedVersions`, undefined when it answers in a way that says
 * it does not speak it (an error, an HTTP refusal, a result without that revision). From a
 * modern answer on, every request on `conn` carries the envelope (capabilities: none; a call
 * adds its caller's). A transport failure is thrown: the server may not have survived the probe.
 */
export async function discover(
  conn: RpcConnection,
  channel: Channel,
  options: { timeoutMs: number; clientVersion: string },
): Promise<ServerIdentity | undefined> {
  channel.setProtocolVersion?.(MODERN_REVISION);
  conn.setEnvelope(requestEnvelope({ clientVersion: options.clientVersion, capabilities: {} }));
  let result: unknown;
  try {
    result = await conn.request('server/discover', {}, { timeoutMs: options.timeoutMs });
  } catch (err) {
    conn.setEnvelope(undefined);
    channel.setProtocolVersion?.(undefined);
    if (isUpstreamError(err) && NOT_MODERN.has(err.code)) return undefined;
    throw err;
  }
  const versions =
    isObject(result) && Array.isArray(result.supportedVersions) ? result.supportedVersions : [];
  if (!isObject(result) || !versions.includes(MODERN_REVISION)) {
    conn.setEnvelope(undefined);
    channel.setProtocolVersion?.(undefined);
    return undefined;
  }
  // The server identifies itself in the result's `_meta` (spec PR #3002); older drafts in the body.
  const meta = isObject(result._meta) ? result._meta : {};
  const info = isObject(meta[SERVER_INFO_META_KEY])
    ? meta[SERVER_INFO_META_KEY]
    : isObject(result.serverInfo)
      ? result.serverInfo
      : {};
  const capabilities = readCapabilities(result.capabilities);
  return {
    protocolVersion: MODERN_REVISION,
    era: 'modern',
    name: optString(info.name, 200),
    version: optString(info.version, 100),
    instructions: optString(result.instructions, 64 * 1024),
    listChanged: capabilities.tools?.listChanged ?? false,
    capabilities,
  };
}

/** Answers to the probe that mean "not a 2026-07-28 server" rather than "broken". */
const NOT_MODERN: ReadonlySet<string> = new Set([
  'upstream-rpc-error',
  'upstream-http-error',
  'upstream-protocol-error',
  'upstream-timeout',
]);

/** Names the gateway can serve and pin: the same safe characters for tools, prompts and arguments. */
const SAFE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const SAFE_NAME_PROBLEM = 'must be 1–128 of A-Z a-z 0-9 _ - .';
/** Longest URI or URI template the gateway serves (a longer one is not an address, it is a payload). */
export const MAX_URI_LENGTH = 2048;

/** A listed item checked: the fields to pin, or why it cannot be served; `key` is its listing key. */
type Parsed<T> =
  { readonly key: string; readonly value: T } | { readonly key: string; readonly problem: string };

/** The optional string fields of a listed item, each a string if present; the first that is not, named. */
function stringFields(
  raw: Record<string, unknown>,
  fields: readonly string[],
): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const field of fields) {
    if (raw[field] === undefined) continue;
    if (typeof raw[field] !== 'string') return `${field} must be a string`;
    out[field] = raw[field];
  }
  return out;
}

/** Checks one listed tool's shape; the pinned fields are copied, nothing else. */
function parseToolDefinition(raw: unknown): Parsed<ToolDefinition> {
  if (!isObject(raw)) return { key: '(not an object)', problem: 'definition is not an object' };
  const name = typeof raw.name === 'string' ? raw.name : '';
  const shownName = name.slice(0, 128) || '(no name)';
  if (!SAFE_NAME.test(name)) return { key: shownName, problem: `name ${SAFE_NAME_PROBLEM}` };
  if (!isObject(raw.inputSchema) || raw.inputSchema.type !== 'object') {
    return { key: name, problem: 'inputSchema must be a JSON Schema object with type "object"' };
  }
  if (raw.outputSchema !== undefined && (!isObject(raw.outputSchema) || raw.outputSchema.type !== 'object')) {
    return { key: name, problem: 'outputSchema must be a JSON Schema object with type "object"' };
  }
  const strings = stringFields(raw, ['title', 'description']);
  if (typeof strings === 'string') return { key: name, problem: strings };
  if (raw.annotations !== undefined && !isObject(raw.annotations))
    return { key: name, problem: 'annotations must be an object' };
  return {
    key: name,
    value: {
      name,
      ...strings,
      inputSchema: raw.inputSchema,
      ...(isObject(raw.outputSchema) ? { outputSchema: raw.outputSchema } : {}),
      ...(isObject(raw.annotations) ? { annotations: raw.annotations } : {}),
    },
  };
}

/** Checks one listed prompt: a safe name, string texts, and well-formed, distinct arguments. */
function parsePromptDefinition(raw: unknown): Parsed<PromptDefinition> {
  if (!isObject(raw)) return { key: promptKey('(not an object)'), problem: 'definition is not an object' };
  const name = typeof raw.name === 'string' ? raw.name : '';
  const key = promptKey(name.slice(0, 128) || '(no name)');
  if (!SAFE_NAME.test(name)) return { key, problem: `name ${SAFE_NAME_PROBLEM}` };
  const strings = stringFields(raw, ['title', 'description']);
  if (typeof strings === 'string') return { key, problem: strings };
  let args: PromptArgumentDefinition[] | undefined;
  if (raw.arguments !== undefined) {
    if (!Array.isArray(raw.arguments) || raw.arguments.length > 64)
      return { key, problem: 'arguments must be a list of at most 64' };
    args = [];
    const seen = new Set<string>();
    for (const [i, a] of raw.arguments.entries()) {
      if (!isObject(a) || typeof a.name !== 'string' || !SAFE_NAME.test(a.name))
        return { key, problem: `arguments[${i}].name ${SAFE_NAME_PROBLEM}` };
      if (seen.has(a.name)) return { key, problem: `argument ${a.name} is declared twice` };
      seen.add(a.name);
      const texts = stringFields(a, ['title', 'description']);
      if (typeof texts === 'string') return { key, problem: `arguments[${i}].${texts}` };
      if (a.required !== undefined && typeof a.required !== 'boolean')
        return { key, problem: `arguments[${i}].required must be a boolean` };
      args.push({ name: a.name, ...texts, ...(a.required === true ? { required: true } : {}) });
    }
  }
  return { key, value: { name, ...strings, ...(args ? { arguments: args } : {}) } };
}

/** Checks one listed resource template: a bounded uriTemplate string, a name, string texts. */
function parseResourceTemplate(raw: unknown): Parsed<ResourceTemplateDefinition> {
  if (!isObject(raw)) return { key: templateKey('(not an object)'), problem: 'definition is not an object' };
  const uriTemplate = typeof raw.uriTemplate === 'string' ? raw.uriTemplate : '';
  const key = templateKey(uriTemplate.slice(0, 256) || '(no uriTemplate)');
  if (uriTemplate === '' || uriTemplate.length > MAX_URI_LENGTH)
    return { key, problem: `uriTemplate must be a string of 1–${MAX_URI_LENGTH} characters` };
  // Control characters and spaces are not URI characters (RFC 3986 §2); they only hide things.
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u0020\u007f]/.test(uriTemplate))
    return { key, problem: 'uriTemplate holds spaces or control characters' };
  if (typeof raw.name !== 'string' || raw.name === '' || raw.name.length > 256)
    return { key, problem: 'name must be a string of 1–256 characters' };
  const strings = stringFields(raw, ['title', 'description', 'mimeType']);
  if (typeof strings === 'string') return { key, problem: strings };
  if (raw.annotations !== undefined && !isObject(raw.annotations))
    return { key, problem: 'annotations must be an object' };
  return {
    key,
    value: {
      uriTemplate,
      name: raw.name,
      ...strings,
      ...(isObject(raw.annotations) ? { annotations: raw.annotations } : {}),
    },
  };
}

export interface ListOptions {
  readonly timeoutMs: number;
  readonly maxPages?: number;
  readonly maxItems?: number;
}

/**
 * Every page of a listing method, bounded so a server cannot keep the gateway paging forever or
 * fill its memory: at most `maxPages` pages and `maxItems` items. Each item is parsed on its own,
 * so a malformed one is recorded with its problem and blocks only itself; a second item under a
 * key already listed is recorded as malformed.
 */
async function listAll<T>(
  conn: RpcConnection,
  method: string,
  field: string,
  parse: (raw: unknown) => Parsed<T>,
  options: ListOptions,
): Promise<{ items: T[]; malformed: MalformedTool[] }> {
  const maxPages = options.maxPages ?? 64;
  const maxItems = options.maxItems ?? 1000;
  const items = new Map<string, T>();
  const malformed: MalformedTool[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const result = await conn.request(method, cursor ? { cursor } : undefined, {
      timeoutMs: options.timeoutMs,
    });
    if (!isObject(result) || !Array.isArray(result[field])) {
      throw new UpstreamError(
        'upstream-protocol-error',
        `The upstream server sent a malformed ${method} result.`,
      );
    }
    for (const raw of result[field] as unknown[]) {
      if (items.size + malformed.length >= maxItems) break;
      const parsed = parse(raw);
      if (seen.has(parsed.key)) {
        malformed.push({ name: parsed.key, problem: 'listed more than once' });
        continue;
      }
      seen.add(parsed.key);
      if ('problem' in parsed) malformed.push({ name: parsed.key, problem: parsed.problem });
      else items.set(parsed.key, parsed.value);
    }
    if (typeof result.nextCursor !== 'string' || result.nextCursor === '' || result.nextCursor === cursor) {
      return { items: [...items.values()], malformed };
    }
    cursor = result.nextCursor;
  }
  throw new UpstreamError('upstream-protocol-error', `The upstream server paginated ${method} without end.`);
}

/** Every page of `tools/list`. */
export async function listTools(
  conn: RpcConnection,
  options: ListOptions,
): Promise<{ tools: ToolDefinition[]; malformed: MalformedTool[] }> {
  const { items, malformed } = await listAll(conn, 'tools/list', 'tools', parseToolDefinition, options);
  return { tools: items, malformed };
}

/** Every page of `prompts/list` (call only when the server declares prompts). */
export async function listPrompts(
  conn: RpcConnection,
  options: ListOptions,
): Promise<{ prompts: PromptDefinition[]; malformed: MalformedTool[] }> {
  const { items, malformed } = await listAll(conn, 'prompts/list', 'prompts', parsePromptDefinition, options);
  return { prompts: items, malformed };
}

/** Every page of `resources/templates/list` (call only when the server declares resources). */
export async function listResourceTemplates(
  conn: RpcConnection,
  options: ListOptions,
): Promise<{ resourceTemplates: ResourceTemplateDefinition[]; malformed: MalformedTool[] }> {
  const { items, malformed } = await listAll(
    conn,
    'resources/templates/list',
    'resourceTemplates',
    parseResourceTemplate,
    options,
  );
  return { resourceTemplates: items, malformed };
}
