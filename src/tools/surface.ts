import type { Tool, ToolContext } from './types.js';

/**
 * An upstream's MCP surface beyond tools (resources, prompts, completions), as the gateway serves
 * it. upstreams/ builds it from what a server lists (only approved, redacted definitions, with
 * names and URIs already in the gateway's namespace); mcp/ serves it. Everything that reaches an
 * upstream on a caller's behalf is an operation, a `Tool`, so it goes through the same stages as
 * a tool call: limits, scopes and tool-chain rules, validation, confirmation, audit, the output
 * stage and taint. The method an operation serves is in its `surface` field.
 */

/** The gateway's URI namespace for upstream resources: `portcullis://<upstream>/<upstream's URI>`. */
export const RESOURCE_URI_PREFIX = 'portcullis://';

/** A prompt as prompts/list shows it (name namespaced `<upstream>__<prompt>`, unless unprefixed). */
export interface ListedPrompt {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  // Mutable array type: the SDK's result types take it as it is.
  readonly arguments?: {
    readonly name: string;
    readonly title?: string;
    readonly description?: string;
    readonly required?: boolean;
  }[];
}

/** A resource template as resources/templates/list shows it (uriTemplate in the gateway namespace). */
export interface ListedResourceTemplate {
  readonly uriTemplate: string;
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly mimeType?: string;
  readonly annotations?: Record<string, unknown>;
}

/** A resource as resources/list shows it (uri in the gateway namespace). */
export interface ListedResource {
  readonly uri: string;
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly mimeType?: string;
  readonly size?: number;
  readonly annotations?: Record<string, unknown>;
}

/** What completion/complete names as the owner of the argument being completed. */
export type CompletionRef =
  | { readonly type: 'ref/prompt'; readonly name: string }
  | { readonly type: 'ref/resource'; readonly uri: string };

/**
 * Which method an operation serves, and how its `ToolOutput` maps back to that method's result:
 * - `resources/read`: `content` holds `{ type: 'resource', resource: { uri, mimeType?, text | blob } }`
 *   blocks, one per item of `contents` (uri in the gateway namespace);
 * - `prompts/get`: `content` holds each message's content block, `roles` the role of each, in
 *   order, and `description` the prompt result's description;
 * - `completion/complete`: `content` holds one text block per value, `structured` `{ total?, hasMore? }`.
 */
export type SurfaceMethod = 'resources/read' | 'prompts/get' | 'completion/complete';

export interface SurfaceOperation extends Tool {
  readonly surface: SurfaceMethod;
}

/** A prompt the gateway serves: how it is listed and the operation prompts/get runs. */
export interface PromptEntry {
  readonly listed: ListedPrompt;
  /** Arguments: a string-to-string object checked against the prompt's declared arguments. */
  readonly op: SurfaceOperation;
}

export interface ResourceTemplateEntry {
  readonly listed: ListedResourceTemplate;
  /** The scope needed to see the template (the URI rules applied to the upstream's uriTemplate). */
  readonly scope: string;
}

/** One page of an upstream's resources, URIs rewritten into the gateway namespace. */
export interface ResourcePage {
  readonly resources: readonly (ListedResource & { readonly scope: string })[];
  readonly nextCursor?: string;
}

/** A change an upstream announced, for the callers who may see it. */
export type SurfaceEvent =
  | { readonly kind: 'resource-updated'; readonly uri: string }
  | { readonly kind: 'list-changed'; readonly list: 'tools' | 'resources' | 'prompts' };

export interface UpstreamSurface {
  readonly upstream: string;
  /**
   * `''` when this upstream's names and URIs are served unchanged (config `namespace: ''`);
   * absent when they are namespaced by the upstream's name.
   */
  readonly namespace?: string;
  /** Approved prompts only (pinned like tool definitions). */
  readonly prompts: readonly PromptEntry[];
  /** Approved resource templates only (pinned like tool definitions). */
  readonly resourceTemplates: readonly ResourceTemplateEntry[];
  /** Present when the server declares the resources capability. */
  readonly resources?: {
    /** One page of resources/list, live from the server (resources are data, not pinned). */
    list(cursor: string | undefined, ctx: ToolContext): Promise<ResourcePage>;
    /** The resources/read operation for one gateway URI of this upstream (args `{ uri }`). */
    reader(uri: string): SurfaceOperation;
    /** Present when the server declares `resources.subscribe`; `uri` is the gateway URI. */
    subscribe?: (uri: string) => Promise<void>;
    unsubscribe?: (uri: string) => Promise<void>;
  };
  /**
   * The completion/complete operation for a ref of this upstream (args `{ ref, argument, context? }`),
   * scoped like its owner; undefined when the server declares no completions or the ref is unknown.
   */
  completer(ref: CompletionRef): SurfaceOperation | undefined;
}

/** Upstream names are 1–32 of a-z, 0-9 and - (upstreams/config.ts); anything else is not ours. */
const UPSTREAM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Whether a URI is in the gateway's namespace; the scheme is compared case-insensitively (RFC 3986 §3.1). */
export function isGatewayUri(uri: string): boolean {
  return uri.slice(0, RESOURCE_URI_PREFIX.length).toLowerCase() === RESOURCE_URI_PREFIX;
}

/**
 * Splits a gateway resource URI into its upstream and the upstream's own URI; undefined if it is
 * not one. `unprefixed` names the upstream served with an empty namespace, if any: a URI outside
 * `portcullis://` is that upstream's, unchanged. Each upstream URI has exactly one gateway form
 * (see `joinResourceUri`), so there is no second spelling that reaches the same resource, and no
 * spelling of one upstream's URI that reaches another's.
 */
export function splitResourceUri(
  uri: string,
  unprefixed?: string,
): { upstream: string; uri: string } | undefined {
  if (!isGatewayUri(uri))
    return unprefixed !== undefined && uri !== '' ? { upstream: unprefixed, uri } : undefined;
  const rest = uri.slice(RESOURCE_URI_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const upstream = rest.slice(0, slash);
  if (!UPSTREAM_NAME.test(upstream)) return undefined;
  const inner = rest.slice(slash + 1);
  if (inner === '') return undefined;
  // The unprefixed upstream's URIs are wrapped only when they look like the gateway's own.
  if (upstream === unprefixed && !isGatewayUri(inner)) return undefined;
  return { upstream, uri: inner };
}

/**
 * The gateway URI of an upstream's resource (the inverse of `splitResourceUri`). With
 * `unprefixed` (the upstream has an empty namespace) a URI is served unchanged, unless it is
 * itself a `portcullis://` URI: that one is wrapped in the upstream's own namespace, so a server
 * can never hand out a URI that names another upstream.
 */
export function joinResourceUri(upstream: string, uri: string, unprefixed = false): string {
  if (unprefixed && !isGatewayUri(uri)) return uri;
  return `${RESOURCE_URI_PREFIX}${upstream}/${uri}`;
}
