import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
} from '@modelcontextprotocol/server';
import type { LogLevel } from '../tools/index.js';
import type { UpstreamConfig } from './config.js';

/** The stateless era's revision: no handshake, every request carries its own `_meta` envelope. */
export const MODERN_REVISION = '2026-07-28';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The client capabilities a 2026-07-28 upstream is told of for one request: what the calling
 * client declared for it, intersected with what the operator relays (`inputRequests`), never
 * more. Sub-options are not copied (`sampling: {}`, `roots: {}`): a server that learns of an
 * option the gateway does not check could ask for more than the operator allowed. Elicitation
 * keeps its modes, each only if both sides have it; a bare `elicitation: {}` is form mode, as the
 * spec reads it.
 */
export function relayedCapabilities(
  declared: Readonly<Record<string, unknown>> | undefined,
  relay: UpstreamConfig['inputRequests'],
): Record<string, Record<string, unknown>> {
  const caps = declared ?? {};
  const out: Record<string, Record<string, unknown>> = {};
  const e = caps.elicitation;
  if (isObject(e)) {
    const form = relay.elicitation && (isObject(e.form) || !('url' in e));
    const url = relay.urlElicitation && isObject(e.url);
    if (form || url) out.elicitation = { ...(form ? { form: {} } : {}), ...(url ? { url: {} } : {}) };
  }
  if (relay.sampling && isObject(caps.sampling)) out.sampling = {};
  if (relay.roots && isObject(caps.roots)) out.roots = {};
  return out;
}

/**
 * The per-request `_meta` envelope of 2026-07-28 (basic/lifecycle): the revision, the gateway as
 * the client, the capabilities above, and the caller's log level when it asked for log messages
 * (without it a server sends none). Merged over what the request's `_meta` already holds (the
 * gateway's own progress token), so nothing the caller sent reaches the upstream this way.
 */
export function requestEnvelope(input: {
  readonly clientVersion: string;
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly logLevel?: LogLevel;
}): Record<string, unknown> {
  return {
    [PROTOCOL_VERSION_META_KEY]: MODERN_REVISION,
    [CLIENT_INFO_META_KEY]: { name: 'portcullis', version: input.clientVersion },
    [CLIENT_CAPABILITIES_META_KEY]: input.capabilities,
    ...(input.logLevel ? { [LOG_LEVEL_META_KEY]: input.logLevel } : {}),
  };
}

/** Which body field the `Mcp-Name` header mirrors (SEP-2243), per method. */
const NAME_FIELD: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

/**
 * The standard headers of a 2026-07-28 request over HTTP (SEP-2243): `Mcp-Method`, and `Mcp-Name`
 * for a call that names its target, Base64-encoded when the value is not plain header text. A
 * notification or response carries only the revision.
 */
export function standardHeaders(message: Readonly<Record<string, unknown>>): Record<string, string> {
  const headers: Record<string, string> = { 'mcp-protocol-version': MODERN_REVISION };
  if (typeof message.method !== 'string') return headers;
  headers['mcp-method'] = message.method;
  const field = NAME_FIELD[message.method];
  const params = isObject(message.params) ? message.params : {};
  const value = field === undefined ? undefined : params[field];
  if (typeof value === 'string') {
    headers['mcp-name'] = /^[\x21-\x7e]*$/.test(value)
      ? value
      : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
  }
  return headers;
}

/** Every switch on: what a caller's declaration amounts to before the operator's policy. */
const ALL: UpstreamConfig['inputRequests'] = {
  elicitation: true,
  urlElicitation: true,
  sampling: true,
  roots: true,
};

/** Whether a declared capability has every mode a needed one names (elicitation's form, url). */
const covers = (have: Record<string, unknown> | undefined, need: Record<string, unknown>) =>
  have !== undefined && Object.keys(need).every((mode) => isObject(have[mode]));

/** The client capabilities the gateway knows how to relay (and so can name to a caller). */
const RELAYABLE = ['elicitation', 'sampling', 'roots'] as const;

/**
 * An upstream's -32021 `data.requiredCapabilities` read strictly, split into what the caller did
 * not declare (`caller`: a client feature the gateway can relay; the request does need it, so
 * -32021 is the true answer even where the operator would then refuse it) and what no
 * declaration of the caller supplies here (`gateway`: declared but not relayed by the operator,
 * or nothing the gateway relays at all). Undefined when the data is not a capabilities object.
 */
export function splitRequired(
  data: unknown,
  declared: Readonly<Record<string, unknown>>,
): { caller: Record<string, Record<string, unknown>>; gateway: string[] } | undefined {
  const required = isObject(data) ? data.requiredCapabilities : undefined;
  if (!isObject(required) || Object.keys(required).length === 0) return undefined;
  const caller: Record<string, Record<string, unknown>> = {};
  const gateway: string[] = [];
  for (const [name, value] of Object.entries(required).slice(0, 16)) {
    const known = (RELAYABLE as readonly string[]).includes(name) && isObject(value);
    if (!known) {
      gateway.push(name.slice(0, 40));
      continue;
    }
    // The smallest declaration that would do: elicitation keeps the modes asked for.
    const need: Record<string, unknown> =
      name === 'elicitation'
        ? Object.fromEntries(['form', 'url'].filter((m) => isObject(value[m])).map((m) => [m, {}]))
        : {};
    // Declared (in every mode needed) but still missing: the operator does not relay it, or the
    // server is inconsistent; either way no declaration of the caller would help.
    if (covers(relayedCapabilities(declared, ALL)[name], need)) gateway.push(name);
    else caller[name] = need;
  }
  return { caller, gateway };
}
