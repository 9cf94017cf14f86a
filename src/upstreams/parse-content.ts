import { joinResourceUri, ToolInputError, type ContentBlock } from '../tools/index.js';
import { MAX_URI_LENGTH } from './mcp-client.js';

/** How an upstream's own names and URIs are shown in the gateway's namespace. */
export interface Namespace {
  readonly upstream: string;
  /** The upstream is served with an empty namespace (config `namespace: ''`). */
  readonly unprefixed: boolean;
}

/** A prompt or tool name as the gateway serves it. */
export const servedName = (ns: Namespace, name: string) => (ns.unprefixed ? name : `${ns.upstream}__${name}`);

/** A URI (or uriTemplate) as the gateway serves it: never in another upstream's namespace. */
export const servedUri = (ns: Namespace, uri: string) => joinResourceUri(ns.upstream, uri, ns.unprefixed);

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** An upstream URI the gateway will serve: a string of 1–2048 characters with no spaces or controls. */
export function isServableUri(v: unknown): v is string {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  return typeof v === 'string' && v !== '' && v.length <= MAX_URI_LENGTH && !/[\u0000-\u0020\u007f]/.test(v);
}

/** Standard base64 (RFC 4648 §4), padded: what MCP's `blob` and `data` fields carry. */
export function isBase64(v: unknown): v is string {
  return typeof v === 'string' && v.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
}

const optionalStrings = (raw: Record<string, unknown>, fields: readonly string[]) => {
  const out: Record<string, string> = {};
  for (const f of fields) if (typeof raw[f] === 'string') out[f] = raw[f];
  return out;
};

/**
 * One item of a resource's contents (resources/read, or a prompt's embedded resource): its uri
 * rewritten into the upstream's own namespace, exactly one of `text` or valid base64 `blob`.
 * Undefined when it is malformed (no string uri, neither or both bodies, a blob that is not base64).
 */
export function parseResourceContents(ns: Namespace, raw: unknown): Record<string, unknown> | undefined {
  if (!isObject(raw) || !isServableUri(raw.uri)) return undefined;
  const hasText = typeof raw.text === 'string';
  const hasBlob = raw.blob !== undefined;
  if (hasText === hasBlob || (hasBlob && !isBase64(raw.blob))) return undefined;
  return {
    uri: servedUri(ns, raw.uri),
    ...(typeof raw.mimeType === 'string' ? { mimeType: raw.mimeType.slice(0, 256) } : {}),
    ...(hasText ? { text: raw.text } : { blob: raw.blob }),
  };
}

/**
 * One content block of a prompt message, of the types MCP defines (text, image, audio, resource,
 * resource_link), with only their own fields and every URI rewritten into the upstream's own
 * namespace. Anything else is refused: the gateway does not pass on what it cannot check.
 */
export function parseContentBlock(ns: Namespace, raw: unknown): ContentBlock {
  const bad = (why: string) =>
    new ToolInputError(`The upstream server "${ns.upstream}" sent a malformed content block: ${why}.`);
  if (!isObject(raw) || typeof raw.type !== 'string') throw bad('not an object with a type');
  switch (raw.type) {
    case 'text':
      if (typeof raw.text !== 'string') throw bad('text must be a string');
      return { type: 'text', text: raw.text };
    case 'image':
    case 'audio':
      if (!isBase64(raw.data) || typeof raw.mimeType !== 'string')
        throw bad(`${raw.type} needs base64 data and a mimeType`);
      return { type: raw.type, data: raw.data, mimeType: raw.mimeType.slice(0, 256) };
    case 'resource': {
      const resource = parseResourceContents(ns, raw.resource);
      if (!resource) throw bad('an embedded resource needs a uri and exactly one of text or base64 blob');
      return { type: 'resource', resource };
    }
    case 'resource_link':
      if (!isServableUri(raw.uri) || typeof raw.name !== 'string')
        throw bad('a resource link needs a uri and a name');
      return {
        type: 'resource_link',
        uri: servedUri(ns, raw.uri),
        name: raw.name,
        ...optionalStrings(raw, ['title', 'description', 'mimeType']),
        ...(typeof raw.size === 'number' && Number.isFinite(raw.size) ? { size: raw.size } : {}),
      };
    default:
      throw bad(`unknown type ${JSON.stringify(raw.type.slice(0, 40))}`);
  }
}
