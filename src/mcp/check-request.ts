import { isCallMethod } from './protocol.js';
import { classifyPost } from './classify-request.js';
import {
  isJsonContentType,
  SUPPORTED_PROTOCOL_VERSIONS,
  type InboundModernRoute,
} from '@modelcontextprotocol/server';
import { JSON_RPC, WIRE_CODES, type WireCode } from '../wire/index.js';

/**
 * The request-shape checks of /mcp, made before anything with effects runs (a tool, a
 * confirmation, a session, a rate counter). The SDK makes the same checks, but only once it
 * handles the request, and the pipeline runs tools/call before the SDK sees it (DESIGN.md): a
 * request the SDK would refuse afterwards must never have run. Order and codes follow the
 * SDK's entry (createMcpHandler) and its 2025 transport; check-request.test.ts holds our
 * answers beside the SDK's own for the 2026-07-28 cases.
 */

/** Why a request was refused, with the HTTP status and JSON-RPC code to answer with. */
export interface Refusal {
  readonly status: number;
  readonly code: number;
  readonly message: string;
  /** The error's structured data, as the SDK gives it (e.g. the supported revisions for -32022). */
  readonly data?: unknown;
  /** Stable name for the audit record and logs. */
  readonly errorCode:
    | 'unsupported-media-type'
    | 'not-acceptable'
    | 'invalid-request'
    | 'header-mismatch'
    | 'unsupported-protocol-version'
    | 'session-not-found';
}

/** SEP-2243 `HeaderMismatch`: headers absent or disagreeing with the body; HTTP 400. */
export const HEADER_MISMATCH: number = JSON_RPC.headerMismatch;
const UNSUPPORTED_VERSION: number = JSON_RPC.unsupportedProtocolVersion;

/** A refusal said with one wire code of the table (wire/codes.ts). */
export function refusal(wire: WireCode, errorCode: Refusal['errorCode'], message: string): Refusal {
  const { status, jsonRpc } = WIRE_CODES[wire];
  return { status, code: jsonRpc, errorCode, message };
}

/**
 * The 2026-07-28+ revisions served. The SDK keeps its list internal; check-request.test.ts
 * holds this one equal to the list the SDK names when it refuses a revision.
 */
export const MODERN_REVISIONS: readonly string[] = ['2026-07-28'];

/**
 * Which body field `Mcp-Name` mirrors, per method (SEP-2243 §Standard Request Headers; the
 * tasks/* rows from SEP-2663's HTTP binding), as in the SDK's own table.
 */
const NAME_SOURCE: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

export interface JsonRpcMessage {
  readonly jsonrpc: '2.0';
  readonly id?: string | number | null;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const refuse = (wire: WireCode, errorCode: Refusal['errorCode'], message: string) => ({
  refusal: refusal(wire, errorCode, message),
});
const mismatch = (message: string) =>
  refuse(
    'header-mismatch',
    'header-mismatch',
    `Bad Request: the request headers and body disagree: ${message}.`,
  );

/**
 * A POST whose Content-Type is not application/json is refused before its body is read (415),
 * as the SDK requires of anything that composes its building blocks.
 */
export function checkContentType(headers: Headers): Refusal | undefined {
  if (isJsonContentType(headers.get('content-type'))) return undefined;
  return refusal(
    'unsupported-media-type',
    'unsupported-media-type',
    'Unsupported Media Type: Content-Type must be application/json.',
  );
}

/** The 2026-07-28 standard headers as sent, surrounding whitespace dropped (RFC 9110 §5.5). */
function standardHeaders(headers: Headers) {
  const get = (name: string) => headers.get(name)?.replace(/^[ \t]+|[ \t]+$/g, '') ?? undefined;
  return {
    protocolVersionHeader: get('mcp-protocol-version'),
    mcpMethodHeader: get('mcp-method'),
    mcpNameHeader: get('mcp-name'),
  };
}
type StandardHeaders = ReturnType<typeof standardHeaders>;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A header value as the client meant it: `=?base64?…?=` carries canonical Base64 of UTF-8
 * (SEP-2243, for values that are not plain header text); undefined when that is broken.
 */
function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith('=?base64?') && value.endsWith('?='))) return value;
  const b64 = value.slice(9, -2);
  if (!BASE64.test(b64)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/** The Mcp-Name rule: required when the body names something, and equal to it when present. */
function checkName(method: string, params: unknown, header: string | undefined, required: boolean) {
  const field = Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method] : undefined;
  if (field === undefined) return undefined;
  const raw = isObject(params) ? params[field] : undefined;
  const bodyValue = typeof raw === 'string' ? raw : undefined;
  if (header === undefined) {
    return required && bodyValue !== undefined
      ? mismatch(`the body names params.${field} but the required Mcp-Name header is absent`)
      : undefined;
  }
  const decoded = decodeHeaderValue(header);
  if (decoded === undefined) return mismatch('the Mcp-Name header carries an invalid Base64 value');
  if (bodyValue !== undefined && decoded !== bodyValue) {
    return mismatch(`the Mcp-Name header does not name params.${field} of the body`);
  }
  return undefined;
}

/** SEP-2243: a 2026-07-28 request carries MCP-Protocol-Version, Mcp-Method and Mcp-Name. */
function checkModern(std: StandardHeaders, route: InboundModernRoute) {
  if (route.messageKind !== 'request') return undefined;
  const revision = route.classification.revision;
  if (revision === undefined || !MODERN_REVISIONS.includes(revision)) {
    const supported = [...MODERN_REVISIONS, ...SUPPORTED_PROTOCOL_VERSIONS];
    const refused = refuse(
      'unsupported-revision',
      'unsupported-protocol-version',
      `Unsupported protocol version ${revision ?? '(none)'}: this endpoint serves ${supported.join(', ')}.`,
    );
    // 2026-07-28 UnsupportedProtocolVersionError: the data says which modern revision to retry
    // with (2025 clients negotiate with initialize instead).
    return {
      refusal: { ...refused.refusal, data: { supported: [...MODERN_REVISIONS], requested: revision ?? '' } },
    };
  }
  if (std.protocolVersionHeader === undefined) {
    return mismatch('the required MCP-Protocol-Version header is absent');
  }
  const { method, params } = route.message;
  if (std.mcpMethodHeader === undefined) return mismatch('the required Mcp-Method header is absent');
  return checkName(method, params, std.mcpNameHeader, true);
}

/**
 * The 2025 transport's checks (Accept, MCP-Protocol-Version). 2025 requests need no Mcp-Method
 * or Mcp-Name, but one that sends them must not contradict its body: a proxy that routes or
 * decides on them would otherwise be told one call and pass another (stricter than the SDK,
 * which ignores them on 2025 traffic).
 */
function checkLegacy(headers: Headers, std: StandardHeaders, message: JsonRpcMessage) {
  const accept = headers.get('accept') ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return refuse(
      'not-acceptable',
      'not-acceptable',
      'Not Acceptable: the client must accept both application/json and text/event-stream.',
    );
  }
  const version = std.protocolVersionHeader;
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    return refuse(
      'bad-request',
      'unsupported-protocol-version',
      `Bad Request: unsupported MCP-Protocol-Version ${version}.`,
    );
  }
  if (message.method === undefined) return undefined;
  if (std.mcpMethodHeader !== undefined && std.mcpMethodHeader !== message.method) {
    return mismatch('the Mcp-Method header does not name the method of the body');
  }
  return checkName(message.method, message.params, std.mcpNameHeader, false);
}

/** A single JSON-RPC request, notification or response; batches are not part of MCP since 2025-06-18. */
function asJsonRpcMessage(value: unknown): JsonRpcMessage | undefined {
  if (!isObject(value) || value.jsonrpc !== '2.0') return undefined;
  if ('method' in value && typeof value.method !== 'string') return undefined;
  if ('params' in value && value.params !== undefined && !isObject(value.params)) return undefined;
  if ('id' in value && !['string', 'number'].includes(typeof value.id) && value.id !== null) return undefined;
  return value as unknown as JsonRpcMessage;
}

export type CheckedMessage =
  | { readonly route: 'modern' | 'legacy'; readonly message: JsonRpcMessage; readonly refusal?: undefined }
  | { readonly refusal: Refusal };

/**
 * Everything about one parsed POST body and its headers that decides whether it may be served:
 * one JSON-RPC message (no batch), the SDK's own era classification (which also refuses a
 * MCP-Protocol-Version or Mcp-Method that contradicts the body), then the era's header rules.
 */
export function checkMessage(headers: Headers, body: unknown): CheckedMessage {
  if (Array.isArray(body)) {
    return refuse(
      'bad-request',
      'invalid-request',
      'Invalid request: JSON-RPC batches are not supported; send one message per request.',
    );
  }
  const message = asJsonRpcMessage(body);
  if (!message)
    return refuse('bad-request', 'invalid-request', 'Invalid request: not a JSON-RPC 2.0 message.');
  const std = standardHeaders(headers);
  const route = classifyPost({ ...std, body });
  if (route.kind === 'reject') {
    const errorCode =
      route.code === HEADER_MISMATCH
        ? 'header-mismatch'
        : route.code === UNSUPPORTED_VERSION
          ? 'unsupported-protocol-version'
          : 'invalid-request';
    // The SDK's own answer, as its handler would give it (check-request.test.ts holds them equal).
    return {
      refusal: {
        status: route.httpStatus,
        code: route.code,
        errorCode,
        message: route.message,
        ...(route.data === undefined ? {} : { data: route.data }),
      },
    };
  }
  // A call sent as a notification would run a tool (or reach an upstream) nobody hears back from.
  if (isCallMethod(message.method) && !('id' in message)) {
    return refuse(
      'bad-request',
      'invalid-request',
      `Invalid request: ${message.method} is a request and needs an id.`,
    );
  }
  const problem = route.kind === 'modern' ? checkModern(std, route) : checkLegacy(headers, std, message);
  return problem ?? { route: route.kind, message };
}
