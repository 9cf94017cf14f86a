import { sanitiseText, truncationNotice } from '../safety/index.js';
import {
  splitResourceUri,
  ToolInputError,
  type ContentBlock,
  type ListedResource,
  type ResourcePage,
  type SurfaceOperation,
  type ToolContext,
  type ToolOutput,
} from '../tools/index.js';
import type { RequestUpstream } from './build-prompt.js';
import { cutUtf8 } from './build-tool.js';
import type { SurfaceClassification } from './classify-surface.js';
import {
  isObject,
  isServableUri,
  parseResourceContents,
  servedUri,
  type Namespace,
} from './parse-content.js';

/** Most resources passed on from one resources/list page. */
const MAX_PAGE_ITEMS = 1000;
/** Longest cursor passed on (it is the upstream's, opaque, and goes back to it). */
const MAX_CURSOR_LENGTH = 4096;

/** The upstream's own URI of a gateway URI of this upstream; undefined when it is not one. */
export function upstreamUriOf(ns: Namespace, gatewayUri: string): string | undefined {
  const split = splitResourceUri(gatewayUri, ns.unprefixed ? ns.upstream : undefined);
  return split?.upstream === ns.upstream ? split.uri : undefined;
}

/**
 * One resources/list page made safe to pass on: items without a servable uri or a string name
 * are dropped, texts cleaned and cut to 4 KiB, known secrets are redacted (an item whose URI held one is dropped: it cannot be
 * read back), every URI is rewritten into the upstream's own namespace and carries the scope the
 * operator's rules give it.
 */
export function toResourcePage(
  ns: Namespace,
  raw: unknown,
  classify: (uri: string) => SurfaceClassification,
  redact: <T>(value: T) => T,
): ResourcePage {
  if (!isObject(raw) || !Array.isArray(raw.resources)) {
    throw new ToolInputError(`The upstream server "${ns.upstream}" sent a malformed resources/list result.`);
  }
  const resources: (ListedResource & { scope: string })[] = [];
  for (const item of raw.resources.slice(0, MAX_PAGE_ITEMS) as unknown[]) {
    if (!isObject(item) || !isServableUri(item.uri) || typeof item.name !== 'string') continue;
    // Listings are not pinned and reach the client as they are: the texts are cleaned of
    // terminal escapes and invisible characters here (the URI is not: it must read back).
    const clean = (v: string) => sanitiseText(v.slice(0, 4096)).text;
    const shown = redact({
      uri: item.uri,
      name: clean(item.name),
      ...(typeof item.title === 'string' ? { title: clean(item.title) } : {}),
      ...(typeof item.description === 'string' ? { description: clean(item.description) } : {}),
      ...(typeof item.mimeType === 'string' ? { mimeType: clean(item.mimeType) } : {}),
      ...(isObject(item.annotations) ? { annotations: item.annotations } : {}),
    });
    if (shown.uri !== item.uri) continue;
    resources.push({
      ...shown,
      uri: servedUri(ns, item.uri),
      ...(typeof item.size === 'number' && Number.isSafeInteger(item.size) && item.size >= 0
        ? { size: item.size }
        : {}),
      scope: classify(item.uri).scope,
    });
  }
  const next = raw.nextCursor;
  return {
    resources,
    ...(typeof next === 'string' && next !== '' && next.length <= MAX_CURSOR_LENGTH
      ? { nextCursor: next }
      : {}),
  };
}

/**
 * A resources/read result made safe to pass on: one `resource` block per item, its uri in the
 * upstream's own namespace. Malformed items are dropped. Text is cut to `maxBytes` in all (with
 * the sanitiser's notice); a blob cannot be cut without corrupting it, so a read whose blobs do
 * not fit is refused with a clear error. Blobs are passed through unchanged.
 */
export function toReadOutput(ns: Namespace, raw: unknown, maxBytes: number): ToolOutput {
  if (!isObject(raw) || !Array.isArray(raw.contents)) {
    throw new ToolInputError(`The upstream server "${ns.upstream}" sent a malformed resources/read result.`);
  }
  const items = (raw.contents as unknown[])
    .slice(0, MAX_PAGE_ITEMS)
    .map((c) => parseResourceContents(ns, c))
    .filter((c) => c !== undefined);
  const blobBytes = items.reduce((n, c) => n + (typeof c.blob === 'string' ? c.blob.length : 0), 0);
  if (blobBytes > maxBytes) {
    throw new ToolInputError(
      `The resource from "${ns.upstream}" is ${blobBytes} bytes of binary content, over the ${maxBytes}-byte cap; it cannot be passed on.`,
    );
  }
  let budget = maxBytes - blobBytes;
  let cut = false;
  const content: ContentBlock[] = [];
  for (const item of items) {
    if (typeof item.text === 'string') {
      const size = Buffer.byteLength(item.text, 'utf8');
      if (size > budget) {
        cut = true;
        content.push({ type: 'resource', resource: { ...item, text: cutUtf8(item.text, budget) } });
        budget = 0;
        continue;
      }
      budget -= size;
    }
    content.push({ type: 'resource', resource: item });
  }
  if (cut) content.push({ type: 'text', text: truncationNotice(maxBytes) });
  return { content };
}

/** The resources/read operation of one gateway URI: args exactly `{ uri }` with that URI. */
export function buildResourceReader(input: {
  readonly ns: Namespace;
  readonly gatewayUri: string;
  readonly classify: (uri: string) => SurfaceClassification;
  readonly maxOutputBytes: number;
  readonly request: RequestUpstream;
}): SurfaceOperation {
  const { ns, gatewayUri } = input;
  const own = upstreamUriOf(ns, gatewayUri);
  // A URI that is not this upstream's gets an operation that refuses every argument: it can
  // never reach the server, whatever the caller of `reader` did with the lookup.
  const classification =
    own === undefined
      ? { scope: `${ns.upstream}:resources`, labels: ['untrusted-source' as const] }
      : input.classify(own);
  return {
    surface: 'resources/read',
    name: gatewayUri,
    title: `Read ${gatewayUri}`,
    description: `A resource of the upstream server "${ns.upstream}".`,
    scope: classification.scope,
    class: 'read',
    labels: classification.labels,
    upstream: ns.upstream,
    inputSchema: {
      type: 'object',
      properties: { uri: { type: 'string', const: gatewayUri } },
      required: ['uri'],
      additionalProperties: false,
    },
    checkArgs(args) {
      if (own === undefined)
        return { ok: false, issues: [{ path: 'uri', message: `not a resource of ${ns.upstream}` }] };
      if (!isObject(args) || args.uri !== gatewayUri || Object.keys(args).length !== 1)
        return {
          ok: false,
          issues: [{ path: 'arguments', message: `must be exactly { uri: ${JSON.stringify(gatewayUri)} }` }],
        };
      return { ok: true, value: { uri: gatewayUri } };
    },
    checkOutput: (structured) => ({ ok: true, value: structured }),
    async execute(_args, ctx: ToolContext) {
      if (own === undefined) throw new ToolInputError(`${gatewayUri} is not a resource of ${ns.upstream}.`);
      const raw = await input.request('resources/read', { uri: own }, ctx);
      return toReadOutput(ns, raw, input.maxOutputBytes);
    },
  };
}
