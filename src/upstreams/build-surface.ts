import {
  ToolInputError,
  type PromptEntry,
  type ResourceTemplateEntry,
  type UpstreamSurface,
} from '../tools/index.js';
import { buildCompleter, templateVariables } from './build-completer.js';
import { buildPromptEntry, type RequestUpstream } from './build-prompt.js';
import { buildResourceReader, toResourcePage, upstreamUriOf } from './build-resources.js';
import { classifySurface } from './classify-surface.js';
import type { UpstreamConfig } from './config.js';
import type { PromptDefinition, ResourceTemplateDefinition, ServerCapabilities } from './mcp-client.js';
import { servedUri, type Namespace } from './parse-content.js';

/**
 * An upstream's surface beyond tools, as the gateway serves it (tools/surface.ts): the approved
 * prompts and resource templates (already redacted and pinned by the manager), live resource
 * listing and reading, and completions of approved prompts and templates. Each operation reaches
 * the server through `request`, so it has the call's deadline, cancellation and notification relay.
 */
export function buildUpstreamSurface(input: {
  readonly ns: Namespace;
  readonly config: UpstreamConfig;
  readonly capabilities: ServerCapabilities;
  readonly prompts: readonly PromptDefinition[];
  readonly resourceTemplates: readonly ResourceTemplateDefinition[];
  readonly request: RequestUpstream;
  readonly subscribe: (uri: string) => Promise<void>;
  readonly unsubscribe: (uri: string) => Promise<void>;
  /** Every known secret value out of what a live listing shows. */
  readonly redact: <T>(value: T) => T;
}): UpstreamSurface {
  const { ns, config, capabilities } = input;
  const upstream = ns.upstream;
  const classifyResource = (uri: string) => classifySurface(upstream, 'resources', uri, config.resources);
  const classifyPrompt = (name: string) => classifySurface(upstream, 'prompts', name, config.prompts);

  const prompts: { def: PromptDefinition; entry: PromptEntry }[] = input.prompts.map((def) => ({
    def,
    entry: buildPromptEntry({
      ns,
      definition: def,
      classification: classifyPrompt(def.name),
      maxOutputBytes: config.maxOutputBytes,
      request: input.request,
    }),
  }));
  const templates: { def: ResourceTemplateDefinition; entry: ResourceTemplateEntry }[] =
    input.resourceTemplates.map((def) => ({
      def,
      entry: {
        listed: {
          uriTemplate: servedUri(ns, def.uriTemplate),
          name: def.name,
          ...(def.title !== undefined ? { title: def.title } : {}),
          ...(def.description !== undefined ? { description: def.description } : {}),
          ...(def.mimeType !== undefined ? { mimeType: def.mimeType } : {}),
          ...(def.annotations !== undefined ? { annotations: def.annotations } : {}),
        },
        scope: classifyResource(def.uriTemplate).scope,
      },
    }));

  const ownUri = (gatewayUri: string) => {
    const own = upstreamUriOf(ns, gatewayUri);
    if (own === undefined)
      throw new ToolInputError(`${gatewayUri.slice(0, 200)} is not a resource of ${upstream}.`);
    return own;
  };

  const resources: UpstreamSurface['resources'] = capabilities.resources && {
    async list(cursor, ctx) {
      const raw = await input.request('resources/list', cursor !== undefined ? { cursor } : {}, ctx);
      return toResourcePage(ns, raw, classifyResource, input.redact);
    },
    reader: (gatewayUri) =>
      buildResourceReader({
        ns,
        gatewayUri,
        classify: classifyResource,
        maxOutputBytes: config.maxOutputBytes,
        request: input.request,
      }),
    ...(capabilities.resources.subscribe
      ? {
          subscribe: async (gatewayUri: string) => input.subscribe(ownUri(gatewayUri)),
          unsubscribe: async (gatewayUri: string) => input.unsubscribe(ownUri(gatewayUri)),
        }
      : {}),
  };

  return {
    upstream,
    ...(ns.unprefixed ? { namespace: '' } : {}),
    prompts: prompts.map((p) => p.entry),
    resourceTemplates: templates.map((t) => t.entry),
    ...(resources ? { resources } : {}),
    completer(ref) {
      if (!capabilities.completions) return undefined;
      if (ref.type === 'ref/prompt') {
        const p = prompts.find((x) => x.entry.listed.name === ref.name);
        if (!p) return undefined;
        return buildCompleter({
          upstream,
          ref,
          upstreamRef: { type: 'ref/prompt', name: p.def.name },
          argumentNames: (p.def.arguments ?? []).map((a) => a.name),
          classification: { scope: p.entry.op.scope, labels: p.entry.op.labels },
          request: input.request,
        });
      }
      const t = templates.find((x) => x.entry.listed.uriTemplate === ref.uri);
      if (!t) return undefined;
      return buildCompleter({
        upstream,
        ref,
        upstreamRef: { type: 'ref/resource', uri: t.def.uriTemplate },
        argumentNames: templateVariables(t.def.uriTemplate),
        classification: classifyResource(t.def.uriTemplate),
        request: input.request,
      });
    },
  };
}
